import { randomUUID } from 'node:crypto';
import { requireServers } from '../../test/support/servers';
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
