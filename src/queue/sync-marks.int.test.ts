import { randomUUID } from 'node:crypto';
import { requireServers } from '../../test/support/servers';
import type { ChangeJob } from '../app/ports/changes';
import { SyncQueues } from './queues';
import { createRedis } from './redis';
import { COVER_MARGIN_MS, SyncMarks } from './sync-marks';

const redis = createRedis('redis://127.0.0.1:6379');
const prefix = `marks-${randomUUID().slice(0, 8)}`;
const marks = new SyncMarks(redis, prefix);

beforeAll(() => requireServers(['redis']));
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('SyncMarks', () => {
  it('knows the echo of a write by the exact time of the version it wrote, and nothing later', async () => {
    const written = { entity: 'customer', id: 'C-1', modifiedAt: '2026-12-01T10:00:00.123Z' };
    await marks.written('accounting', written);
    const change = { connector: 'accounting', entity: 'customer', id: 'C-1' };
    expect(await marks.isOwnWrite({ ...change, occurredAt: '2026-12-01T10:00:00.123Z' })).toBe(true);
    expect(await marks.isOwnWrite({ ...change, occurredAt: '2026-12-01T10:00:00.124Z' })).toBe(false);
    expect(await marks.isOwnWrite(change)).toBe(false);
    expect(await marks.isOwnWrite({ ...change, connector: 'crm', occurredAt: '2026-12-01T10:00:00.123Z' })).toBe(false);
  });

  it('tells the echoes among many reports in one round trip, never a deletion', async () => {
    await marks.written('crm', { entity: 'contact', id: '7', modifiedAt: '2026-12-01T11:00:00.000Z' });
    const report = { connector: 'crm', entity: 'contact', id: '7', occurredAt: '2026-12-01T11:00:00.000Z' };
    const before = (await redis.info('commandstats')).match(/cmdstat_mget:calls=(\d+)/)?.[1] ?? '0';
    expect(
      await marks.ownWrites([
        report,
        { ...report, id: '8' },
        { ...report, deleted: true },
        { ...report, occurredAt: undefined },
      ]),
    ).toEqual([true, false, false, false]);
    const after = (await redis.info('commandstats')).match(/cmdstat_mget:calls=(\d+)/)?.[1] ?? '0';
    expect(Number(after) - Number(before)).toBe(1);
  });

  it('keeps the echo of a write out of the intake queue, and every other report in it', async () => {
    const queues = new SyncQueues(redis, {
      prefix,
      attempts: 1,
      backoff: 10,
      keepCompleted: 10,
      keepFailed: 10,
    } as never);
    try {
      await marks.written('accounting', { entity: 'customer', id: 'C-9', modifiedAt: '2026-12-01T12:00:00.000Z' });
      const change = (id: string, eventId: string): ChangeJob => ({
        connector: 'accounting',
        entity: 'customer',
        id,
        source: 'webhook',
        eventId,
        occurredAt: '2026-12-01T12:00:00.000Z',
      });
      const echoes: string[] = [];
      await queues.enqueueChanges([change('C-9', 'e1'), change('C-10', 'e2')], {
        onEcho: (echo) => echoes.push(echo.id),
      });
      expect(echoes).toEqual(['C-9']);
      const queued = await queues.intake.getJobs(['waiting']);
      expect(queued.map((job) => job.data.id)).toEqual(['C-10']);
    } finally {
      await queues.intake.obliterate({ force: true });
      await queues.close();
    }
  });

  it('covers reports made before a successful plan began to read, by more than the margin', async () => {
    const readFrom = Date.now();
    await marks.planned('company-1', readFrom);
    // An older plan's mark never moves it back.
    await marks.planned('company-1', readFrom - 60_000);
    expect(await marks.covers('company-1', readFrom - COVER_MARGIN_MS - 1)).toBe(true);
    expect(await marks.covers('company-1', readFrom - COVER_MARGIN_MS + 1)).toBe(false);
    expect(await marks.covers('company-1', readFrom + 10)).toBe(false);
    expect(await marks.covers('company-2', 0)).toBe(false);
  });
});
