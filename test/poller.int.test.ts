/**
 * Polling against real Redis: the cursor moves only once the page's changes are enqueued, and
 * polls of one connector never overlap, in one process or across processes.
 */
import IORedis from 'ioredis';
import type { ChangedPage } from '../connectors/kit/types';
import { pollOnce, schedulePolls, type PollerDeps } from '../src/intake/poller';
import type { ChangeJob } from '../src/app/ports/changes';
import { openPgliteStore } from '../src/store';
import { StoreUnavailableError, type Store } from '../src/app/ports/store';
import {
  clearPrefix,
  fakeAccounting,
  fakeCrm,
  quietLogger,
  REDIS_URL,
  uniquePrefix,
  type FakeConnector,
} from './support/fakes';

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

test('with the store unreachable nothing is enqueued before it is observed, and the cursor stays', async () => {
  const connector = fakeCrm({
    name: 'crm-store-down',
    changedPages: () => [page(connector, ['s1'], 'after-s1'), page(connector, ['s2'], 'after-s2')],
  });
  await store.setCursor('crm-store-down', 'contact', 'before');
  const unavailable = new StoreUnavailableError(
    'PostgreSQL unreachable at 127.0.0.1:5439 since 2026-12-01T14:50:00Z (ECONNREFUSED)',
    {
      endpoint: '127.0.0.1:5439',
      since: '2026-12-01T14:50:00Z',
      reason: 'ECONNREFUSED',
      outcomeUnknown: false,
    },
  );
  const enqueued: string[] = [];
  const enqueue = async (changes: ChangeJob[]) => void enqueued.push(...changes.map((change) => change.id));

  // The store fails while observing the first page: nothing enqueued, the cursor where it was.
  const observeFails: Store = Object.assign(Object.create(store) as Store, {
    observeRecords: () => Promise.reject(unavailable),
  });
  await expect(pollOnce({ ...deps(connector, enqueue), store: observeFails })).rejects.toBe(unavailable);
  expect(enqueued).toEqual([]);
  expect(await store.getCursor('crm-store-down', 'contact')).toBe('before');

  // It fails saving the second page's cursor: that page is enqueued, and polled again next time.
  let cursorsSaved = 0;
  const secondCursorFails: Store = Object.assign(Object.create(store) as Store, {
    setCursor: (...args: Parameters<Store['setCursor']>) =>
      cursorsSaved++ === 0 ? store.setCursor(...args) : Promise.reject(unavailable),
  });
  await expect(pollOnce({ ...deps(connector, enqueue), store: secondCursorFails })).rejects.toBe(unavailable);
  expect(enqueued).toEqual(['s1', 's2']);
  expect(await store.getCursor('crm-store-down', 'contact')).toBe('after-s1');
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

test('a first poll hands on only the records that are linked, and every contact when persons pass fields on', async () => {
  const crm = fakeCrm({
    name: 'crm-first',
    changedPages: () => [page(crm, ['company-1', 'company-2', 'company-3'], 'after-first')],
  });
  const accounting = fakeAccounting({
    name: 'accounting-first',
    changedPages: () => [
      {
        records: ['A-1', 'A-2', 'A-3'].map((id) => accounting.put('customer', id, { name: id })),
        cursor: 'after-first',
      },
    ],
  });
  await store.createRelation({
    contactId: 'company-2',
    accountKind: 'customer',
    accountId: 'A-3',
    relationCode: 'CUST',
    origin: 'linked',
  });
  const enqueued: ChangeJob[] = [];
  const collect = async (changes: ChangeJob[]) => void enqueued.push(...changes);

  // No cursor yet: every record is listed, the linked ones are handed on.
  await expect(pollOnce(deps(crm, collect))).resolves.toEqual({ polled: true, changes: 1 });
  await expect(pollOnce({ ...deps(accounting, collect), slot: 'accounting', entities: ['customer'] })).resolves.toEqual(
    { polled: true, changes: 1 },
  );
  expect(enqueued.map((change) => [change.connector, change.id, change.initial])).toEqual([
    ['crm', 'company-2', true],
    ['accounting', 'A-3', true],
  ]);
  // Every record was observed all the same, and the cursor moved.
  expect(await store.getCursor('crm-first', 'contact')).toBe('after-first');

  // With person fields to pass on, a contact without relations may still have work.
  enqueued.length = 0;
  const persons = fakeCrm({ name: 'crm-persons', changedPages: () => [page(persons, ['person-1'], 'after')] });
  await pollOnce({ ...deps(persons, collect), initialUnlinkedContacts: true });
  expect(enqueued.map((change) => change.id)).toEqual(['person-1']);

  // Once there is a cursor, every change is handed on, linked or not.
  enqueued.length = 0;
  await pollOnce(deps(crm, collect));
  expect(enqueued.map((change) => change.id)).toEqual(['company-1', 'company-2', 'company-3']);
});
