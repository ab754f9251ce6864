/**
 * Polling against real Redis: the cursor moves only once the page's changes are enqueued, and
 * polls of one connector never overlap, in one process or across processes.
 */
import IORedis from 'ioredis';
import type { ChangedPage } from '../connectors/kit/types';
import { pollOnce, schedulePolls, type PollerDeps } from '../src/intake/poller';
import type { ChangeJob } from '../src/app/ports/changes';
import { openPgliteStore } from '../src/store';
import type { Store } from '../src/app/ports/store';
import { clearPrefix, fakeCrm, quietLogger, REDIS_URL, uniquePrefix, type FakeConnector } from './support/fakes';

const prefix = uniquePrefix();
let store: Store;
let redis: IORedis;

beforeAll(async () => {
  store = await openPgliteStore();
  redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await store.close();
  redis.disconnect();
  await clearPrefix(prefix);
});

const page = (connector: FakeConnector, ids: string[], cursor: string): ChangedPage => ({
  records: ids.map((id) => connector.put('contact', id, { name: id })),
  cursor,
});

function deps(connector: FakeConnector, enqueue: (changes: ChangeJob[]) => Promise<void>): PollerDeps {
  return { slot: 'crm', connector, store, redis, prefix, logger: quietLogger, enqueue, entities: ['contact'] };
}

test('the cursor is saved only after the changes are enqueued', async () => {
  const connector = fakeCrm({
    name: 'crm-cursor',
    changedPages: () => [page(connector, ['p1', 'p2'], 'after-page-1')],
  });
  await store.setCursor('crm-cursor', 'contact', 'before');
  const failing = deps(connector, async () => {
    throw new Error('Redis went away');
  });
  await expect(pollOnce(failing)).rejects.toThrow('Redis went away');
  expect(await store.getCursor('crm-cursor', 'contact')).toBe('before');

  const enqueued: ChangeJob[] = [];
  const result = await pollOnce(deps(connector, async (changes) => void enqueued.push(...changes)));
  expect(result).toEqual({ polled: true, changes: 2 });
  expect(enqueued.map((change) => change.id)).toEqual(['p1', 'p2']);
  expect(await store.getCursor('crm-cursor', 'contact')).toBe('after-page-1');
  // The next poll resumes from the saved cursor.
  expect(connector.polls.map((poll) => poll.cursor)).toEqual(['before', 'before']);
  await pollOnce(deps(connector, async () => undefined));
  expect(connector.polls[2]?.cursor).toBe('after-page-1');
});

test('a poll asked for while one runs joins it instead of starting another', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const connector = fakeCrm({
    name: 'crm-overlap',
    changedPages: async () => {
      await gate;
      return [{ records: [], cursor: 'c' }];
    },
  });
  const schedule = schedulePolls(
    deps(connector, async () => undefined),
    30_000,
  );
  try {
    const first = schedule.pollNow();
    const second = schedule.pollNow();
    release();
    await Promise.all([first, second]);
    expect(connector.polls).toHaveLength(1);
  } finally {
    await schedule.stop();
  }
});

test('two processes polling one connector at once: one polls, the other skips', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  const pages = async () => {
    calls++;
    await gate;
    return [{ records: [], cursor: 'c' }];
  };
  const other = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const first = pollOnce(deps(fakeCrm({ name: 'crm-two', changedPages: pages }), async () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await pollOnce({
      ...deps(fakeCrm({ name: 'crm-two', changedPages: pages }), async () => undefined),
      redis: other,
    });
    release();
    expect(second).toEqual({ polled: false, changes: 0 });
    expect(await first).toEqual({ polled: true, changes: 0 });
    expect(calls).toBe(1);
  } finally {
    other.disconnect();
  }
});
