/**
 * The daemon's life cycle against real Redis: graceful shutdown, an unreachable Redis, a config
 * the connectors cannot serve, and one poll per tick however many daemons run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { startDaemon, type Daemon } from '../src/main/daemon';
import { ConfigError, loadConfig } from '../src/config/load';
import { RedisUnavailableError } from '../src/queue/redis';
import { INTAKE_QUEUE } from '../src/queue/queues';
import { contactLockKey } from '../src/queue/contact-lock';
import { openPgliteStore } from '../src/store';
import type { Store } from '../src/app/ports/store';
import { waitFor } from '../src/util/net';
import {
  clearPrefix,
  fakeAccounting,
  fakeCrm,
  quietLogger,
  REDIS_URL,
  startFakeRig,
  testConfig,
  uniquePrefix,
  type FakeRig,
} from './support/fakes';

const filePrefix = uniquePrefix();
let run = 0;
let store: Store;

beforeAll(async () => {
  store = await openPgliteStore();
});
afterAll(async () => {
  await store.close();
  await clearPrefix(`${filePrefix}-*`);
});

describe('graceful shutdown', () => {
  let rig: FakeRig;
  afterEach(async () => {
    await rig.stop();
  });

  /** Counts the jobs of the intake queue in each state, from a connection of its own. */
  async function intakeCounts(prefix: string) {
    const queue = new Queue(INTAKE_QUEUE, {
      connection: new IORedis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
    });
    try {
      return await queue.getJobCounts('waiting', 'active', 'completed');
    } finally {
      await queue.close();
      (await queue.client).disconnect();
    }
  }

  test('a write running when stop is called finishes and is recorded; nothing new is taken', async () => {
    rig = await startFakeRig({ prefix: `${filePrefix}-${++run}`, store });
    const { crm, accounting, daemon } = rig;
    await rig.linked('stop-c1', 'stop-a1', { name: 'Shutdown BV', phone: '1' });
    let finishWrite: () => void = () => undefined;
    accounting.beforeUpdate = () => new Promise<void>((resolve) => (finishWrite = resolve));
    crm.edit('contact', 'stop-c1', { phone: '2' });
    await rig.contactChanged('stop-c1');
    await waitFor(() => accounting.updates.length === 1, 5_000, 5);

    const stopped = daemon.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    crm.put('contact', 'stop-c2', { name: 'Too Late' });
    const late = new Queue(INTAKE_QUEUE, {
      connection: new IORedis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix: rig.prefix,
    });
    await late.add(
      'change',
      { connector: 'crm', entity: 'contact', id: 'stop-c2', source: 'manual' },
      { jobId: 'late' },
    );
    await late.close();
    (await late.client).disconnect();
    finishWrite();
    await stopped;

    expect(accounting.value('customer', 'stop-a1', 'phone')).toBe('2');
    const audit = await store.queryAudit({ contactId: 'stop-c1', kind: 'fieldChange', field: 'phone' });
    expect(audit).toEqual([expect.objectContaining({ newValue: '2' })]);
    const relation = await store.findRelationByAccount('customer', 'stop-a1');
    const shadow = await store.getShadow(relation!.id);
    expect(shadow).toEqual(
      expect.arrayContaining([expect.objectContaining({ side: 'account', field: 'phone', value: '2' })]),
    );
    expect(crm.reads.filter((read) => read.id === 'stop-c2')).toHaveLength(0);
    expect(await intakeCounts(rig.prefix)).toMatchObject({ waiting: 1, active: 0 });
  });

  test('a job that outlives the grace period (queue.shutdownGrace) does not hold stop: its worker is closed anyway', async () => {
    rig = await startFakeRig({ prefix: `${filePrefix}-${++run}`, store, queue: { shutdownGrace: '300ms' } });
    const { crm, accounting, daemon } = rig;
    await rig.linked('stop-c9', 'stop-a9', { name: 'Stuck Oy', phone: '1' });
    let release: () => void = () => undefined;
    accounting.beforeUpdate = () => new Promise<void>((resolve) => (release = resolve));
    crm.edit('contact', 'stop-c9', { phone: '2' });
    await rig.contactChanged('stop-c9');
    await waitFor(() => accounting.updates.length === 1, 5_000, 5);
    const started = Date.now();
    await daemon.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    // The write was never confirmed, so no shadow holds the new phone: the next run writes it again.
    const relation = await store.findRelationByAccount('customer', 'stop-a9');
    expect(
      (await store.getShadow(relation!.id)).filter((entry) => entry.field === 'phone').map((entry) => entry.value),
    ).not.toContain('2');
    release();
  });

  test('stop while a change is still being planned lets its writes run before the write workers close', async () => {
    rig = await startFakeRig({ prefix: `${filePrefix}-${++run}`, store });
    const { crm, accounting, daemon } = rig;
    await rig.linked('stop-c3', 'stop-a3', { name: 'Mid Plan BV', phone: '1' });
    let finishRead: () => void = () => undefined;
    accounting.beforeGet = () => new Promise<void>((resolve) => (finishRead = resolve));
    crm.edit('contact', 'stop-c3', { phone: '2' });
    await rig.contactChanged('stop-c3');
    await waitFor(() => accounting.reads.filter((read) => read.id === 'stop-a3').length === 2, 5_000, 5);

    // The planner is reading the customer; its write is not enqueued yet.
    const stopped = daemon.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    accounting.beforeGet = undefined;
    finishRead();
    await stopped;

    expect(accounting.value('customer', 'stop-a3', 'phone')).toBe('2');
    expect(await store.queryAudit({ contactId: 'stop-c3', kind: 'fieldChange', field: 'phone' })).toHaveLength(1);
  }, 20_000);
});

test('an unreachable Redis stops the start with one line naming the URL and how to start Redis', async () => {
  const stderr = jest.spyOn(process.stderr, 'write');
  const consoleError = jest.spyOn(console, 'error');
  try {
    const crm = fakeCrm();
    const accounting = fakeAccounting();
    const started = startDaemon({
      config: testConfig(`${filePrefix}-x`),
      logger: quietLogger,
      redisUrl: 'redis://127.0.0.1:1',
      store,
      connectors: { crm, accounting },
    });
    const error: unknown = await started.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('redis://127.0.0.1:1');
    expect(message).toContain('redis-server');
    expect(message).toContain('REDIS_URL');
    // Nothing keeps retrying in the background.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stderr).not.toHaveBeenCalled();
    expect(consoleError).not.toHaveBeenCalled();
  } finally {
    stderr.mockRestore();
    consoleError.mockRestore();
  }
});

/** Writes a config file and starts a daemon from it; returns what the start threw. */
async function startFromFile(companyId: string, bankAccountMapping: string): Promise<{ file: string; error: unknown }> {
  const directory = mkdtempSync(join(tmpdir(), 'tandem-config-'));
  try {
    const file = join(directory, 'tandem.yaml');
    writeFileSync(
      file,
      [
        'connectors:',
        '  crm:',
        '    kind: hubspot',
        '    baseUrl: http://127.0.0.1:9',
        '    credentials: { token: "${HUBSPOT_TOKEN}" }',
        '  accounting:',
        '    kind: business-central',
        '    baseUrl: http://127.0.0.1:9',
        `    companyId: ${companyId}`,
        '    credentials: { tokenUrl: http://127.0.0.1:9/token, clientId: tandem, clientSecret: "${BC_SECRET}" }',
        'relationCodes: { bankAccount: BANK }',
        'mappings:',
        '  bankAccount:',
        `    - ${bankAccountMapping}`,
        'queue:',
        `  prefix: ${filePrefix}-config`,
        '',
      ].join('\n'),
    );
    const config = loadConfig(file, { HUBSPOT_TOKEN: 'token', BC_SECRET: 'secret' });
    const error: unknown = await startDaemon({
      config,
      configFile: file,
      logger: quietLogger,
      redisUrl: REDIS_URL,
      store,
    }).catch((caught: unknown) => caught);
    return { file, error };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

test('a mapping the accounting connector cannot serve stops the start, naming the key', async () => {
  const { file, error } = await startFromFile(
    '0b4c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
    '{ contact: phone, account: phone }',
  );
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as ConfigError).message;
  expect(message).toContain(file);
  expect(message).toMatch(
    /mappings\.bankAccount\[0\]\.account: business-central bankAccount records have no field 'phone'/,
  );
});

test('a connector setting the connector refuses stops the start with a ConfigError naming its section', async () => {
  const { file, error } = await startFromFile('not-a-guid', '{ contact: name, account: name }');
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).message).toContain(file);
  expect((error as ConfigError).message).toMatch(/connectors\.accounting: .*not-a-guid/);
});

test('two daemons sharing Redis poll a connector once per tick between them', async () => {
  const prefix = `${filePrefix}-${++run}`;
  let calls = 0;
  const daemons: Daemon[] = [];
  try {
    for (let index = 0; index < 2; index++) {
      const crm = fakeCrm({
        changedPages: () => {
          calls++;
          return [{ records: [], cursor: 'c' }];
        },
      });
      daemons.push(
        await startDaemon({
          config: testConfig(prefix, { crm: { pollEvery: '1s' } }),
          logger: quietLogger,
          redisUrl: REDIS_URL,
          store,
          connectors: { crm, accounting: fakeAccounting() },
          schedulePolling: true,
        }),
      );
    }
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const endedAt = Date.now();
    const ticks = Math.floor(endedAt / 1000) - Math.floor(startedAt / 1000);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(ticks + 1);
  } finally {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
  }
});

describe('operations and syncs of one contact', () => {
  test('a link waits while a sync holds the contact, then runs', async () => {
    const rig = await startFakeRig({ prefix: `${filePrefix}-${++run}`, store });
    const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      rig.crm.put('contact', 'lock-c1', { name: 'Lock Step BV', phone: '1' });
      rig.accounting.put('customer', 'lock-a1', { name: 'Lock Step B.V.', phone: '1' });
      const key = contactLockKey(rig.prefix, 'lock-c1');
      expect(await redis.set(key, 'a sync', 'PX', 10_000, 'NX')).toBe('OK');

      let settled = false;
      const linking = rig.daemon.service
        .link({ contactId: 'lock-c1', accountKind: 'customer', accountId: 'lock-a1' }, { name: 'test' })
        .finally(() => {
          settled = true;
        });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(settled).toBe(false);
      expect(await store.findRelationsByContact('lock-c1')).toHaveLength(0);

      await redis.del(key);
      const result = await linking;
      expect(result.relation.contactId).toBe('lock-c1');
      expect(rig.accounting.value('customer', 'lock-a1', 'name')).toBe('Lock Step BV');
    } finally {
      redis.disconnect();
      await rig.stop();
    }
  });
});
