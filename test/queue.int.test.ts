/**
 * The queue's promises against real Redis, with fake connectors and an in-memory store:
 * deduplication, one job per contact at a time, retries, rate limits, re-planning on 412 and
 * bounded job retention.
 */
import { AuthFailedError, InvalidRequestError, RateLimitedError, TransientError } from '../connectors/kit/errors';
import { waitFor } from '../src/util/net';
import { tryContactLock } from '../src/queue/contact-lock';
import { changeJobId, type WriteJob } from '../src/queue/jobs';
import type { HeldLock } from '../src/queue/lock';
import { createRedis } from '../src/queue/redis';
import { openPgliteStore } from '../src/store';
import { StoreUnavailableError, type Store } from '../src/app/ports/store';
import { clearPrefix, REDIS_URL, uniquePrefix, startFakeRig, type FakeRig, type FakeRigOptions } from './support/fakes';

const filePrefix = uniquePrefix();
let run = 0;
let rig: FakeRig | undefined;
let store: Store;
// Record ids unique to each test, as they share one store.
let c1 = '';
let a1 = '';
let c2 = '';
let a2 = '';

beforeAll(async () => {
  store = await openPgliteStore();
});
beforeEach(() => {
  [c1, a1, c2, a2] = ['c1', 'a1', 'c2', 'a2'].map((id) => `${id}-${run + 1}`) as [string, string, string, string];
});

async function start(options: FakeRigOptions = {}): Promise<FakeRig> {
  rig = await startFakeRig({ prefix: `${filePrefix}-${++run}`, store, ...options });
  return rig;
}

const lockRedis = createRedis(REDIS_URL);
const held: HeldLock[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((lock) => lock.release()));
  await rig?.stop();
  rig = undefined;
});
afterAll(async () => {
  lockRedis.disconnect();
  await store.close();
  await clearPrefix(`${filePrefix}-*`);
});

/**
 * A write job as a planner dispatches it, fenced by the lock of `contactId` it holds (taken here
 * and held until the test ends): the write worker runs only such jobs.
 */
async function fenced(target: FakeRig, contactId: string, write: Omit<WriteJob, 'fence'>): Promise<WriteJob> {
  const lock = await tryContactLock(lockRedis, target.prefix, contactId);
  if (!lock) throw new Error(`contact ${contactId} is locked`);
  held.push(lock);
  return { ...write, fence: { contactId, token: lock.token } };
}

/** Waits until nothing is waiting, delayed or running in any queue of the rig. */
async function settled(target: FakeRig): Promise<void> {
  const { intake, writes } = target.daemon.queues;
  await waitFor(
    async () => {
      const counts = await Promise.all(
        [intake, writes.crm, writes.accounting].map((queue) =>
          queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ),
      );
      return counts.every((count) => Object.values(count).every((n) => n === 0));
    },
    10_000,
    20,
  );
}

test('the same change enqueued twice runs once', async () => {
  const { crm, accounting, daemon, linked } = await start();
  await linked(c1, a1, { name: 'Twice BV', phone: '1' });
  crm.edit('contact', c1, { phone: '2' });
  const change = crm.change('contact', c1, 'crm');
  await daemon.queues.enqueueChanges([change]);
  await daemon.queues.enqueueChanges([{ ...change, source: 'webhook', eventId: 'hubspot-7' }]);
  await waitFor(() => accounting.value('customer', a1, 'phone') === '2');
  await settled(rig as FakeRig);

  const job = await daemon.queues.intake.getJob(changeJobId(change));
  expect(await job?.getState()).toBe('completed');
  // The first sync plus this change: two intake jobs, not three.
  expect(await daemon.queues.intake.getJobCounts('completed')).toMatchObject({ completed: 2 });
  expect(accounting.written('customer', a1, 'phone')).toEqual(['2']);
});

test('two changes to one contact never run at once, and the later one sees the earlier result', async () => {
  const { crm, accounting, linked, contactChanged } = await start();
  await linked(c1, a1, { name: 'Serial BV', phone: '1' });
  accounting.updateDelayMs = 300;

  crm.edit('contact', c1, { phone: '2' });
  await contactChanged(c1);
  await waitFor(() => accounting.updates.length === 1, 5_000, 5);
  // The first write is in flight; the second change arrives now.
  crm.edit('contact', c1, { phone: '3', city: 'Utrecht' });
  await contactChanged(c1);

  await waitFor(() => accounting.value('customer', a1, 'phone') === '3', 10_000);
  await settled(rig as FakeRig);
  expect(accounting.maxActivePerRecord.get(`customer:${a1}`)).toBe(1);
  expect(accounting.written('customer', a1, 'phone')).toEqual(['2', '3']);
  expect(accounting.value('customer', a1, 'city')).toBe('Utrecht');
  const phones = (await store.queryAudit({ contactId: c1, kind: 'fieldChange', field: 'phone' })).map(
    (entry) => entry.newValue,
  );
  expect(phones).toEqual(expect.arrayContaining(['2', '3']));
  expect(phones).toHaveLength(2);
});

test('a change that finds the store unreachable is put off without using up an attempt', async () => {
  let outages = 0;
  const unavailable = new StoreUnavailableError(
    'PostgreSQL unreachable at 127.0.0.1:5439 since 2026-12-01T14:50:00Z (ECONNREFUSED)',
    { endpoint: '127.0.0.1:5439', since: '2026-12-01T14:50:00Z', reason: 'ECONNREFUSED', outcomeUnknown: false },
  );
  const flaky: Store = Object.assign(Object.create(store) as Store, {
    findRelationsByContact: (contactId: string) =>
      outages-- > 0 ? Promise.reject(unavailable) : store.findRelationsByContact(contactId),
  });
  // One attempt only: a failure that used up attempts would fail the job at once.
  const { crm, accounting, daemon, linked } = await start({ store: flaky, queue: { attempts: 1 } });
  await linked(c1, a1, { name: 'Outage BV', phone: '1' });
  outages = 2;
  crm.edit('contact', c1, { phone: '2' });
  const change = crm.change('contact', c1, 'crm');
  await daemon.queues.enqueueChanges([change]);
  await waitFor(() => accounting.value('customer', a1, 'phone') === '2', 30_000);
  expect(outages).toBeLessThan(0);
  const state = async () => (await daemon.queues.intake.getJob(changeJobId(change)))?.getState();
  await waitFor(async () => (await state()) === 'completed', 5_000);
}, 60_000);

test('changes to different contacts run in parallel', async () => {
  const { crm, accounting, linked, contactChanged } = await start();
  await linked(c1, a1, { name: 'One', phone: '1' });
  await linked(c2, a2, { name: 'Two', phone: '1' });
  accounting.updateDelayMs = 300;
  crm.edit('contact', c1, { phone: '2' });
  crm.edit('contact', c2, { phone: '2' });
  await contactChanged(c1);
  await contactChanged(c2);
  await waitFor(
    () => accounting.value('customer', a1, 'phone') === '2' && accounting.value('customer', a2, 'phone') === '2',
    10_000,
  );
  expect(accounting.maxActive).toBe(2);
});

test('a transient error is retried with backoff until the write lands', async () => {
  const { crm, accounting, daemon, linked, contactChanged } = await start({ queue: { attempts: 4, backoff: '100ms' } });
  await linked(c1, a1, { name: 'Flaky GmbH', phone: '1' });
  let failures = 0;
  accounting.beforeUpdate = () => {
    if (failures++ < 2) throw new TransientError('503 from the provider', 503);
  };
  crm.edit('contact', c1, { phone: '2' });
  await contactChanged(c1);
  await waitFor(() => accounting.value('customer', a1, 'phone') === '2', 10_000);
  await settled(rig as FakeRig);

  const calls = accounting.updates.map((call) => ({ outcome: call.outcome, at: call.startedAt }));
  expect(calls.map((call) => call.outcome)).toEqual(['TRANSIENT', 'TRANSIENT', 'ok']);
  // Exponential: about 100 ms, then about 200 ms.
  const gaps = [calls[1]!.at - calls[0]!.at, calls[2]!.at - calls[1]!.at];
  expect(gaps[0]).toBeGreaterThanOrEqual(90);
  expect(gaps[1]).toBeGreaterThanOrEqual(190);
  const [write] = await daemon.queues.writes.accounting.getCompleted();
  expect(write?.attemptsMade).toBe(3);
  const audit = await store.queryAudit({ contactId: c1, kind: 'fieldChange', field: 'phone' });
  expect(audit).toEqual([expect.objectContaining({ newValue: '2', jobId: write?.id })]);
});

test.each<[string, () => Error, string]>([
  ['a rejected payload', () => new InvalidRequestError('phone is too long', 400), 'INVALID_REQUEST'],
  ['refused credentials', () => new AuthFailedError('token expired', 401), 'AUTH_FAILED'],
])(
  '%s fails the write without retries; the change fails with its reason and can be retried',
  async (_name, makeError, code) => {
    const { crm, accounting, daemon, linked, contactChanged } = await start({
      queue: { attempts: 2, backoff: '50ms' },
    });
    await linked(c1, a1, { name: 'Final SA', phone: '1' });
    let broken = true;
    accounting.beforeUpdate = () => {
      if (broken) throw makeError();
    };
    crm.edit('contact', c1, { phone: '2' });
    const change = crm.change('contact', c1, 'crm');
    await contactChanged(c1);

    const intake = daemon.queues.intake;
    await waitFor(async () => (await (await intake.getJob(changeJobId(change)))?.getState()) === 'failed', 10_000);
    const failed = await intake.getJob(changeJobId(change));
    expect(failed?.failedReason).toContain(code);
    // The change is not retried either: the same write would be refused again.
    expect(failed?.attemptsMade).toBe(1);
    // Every write job ran once: a final error is not retried by the write queue.
    const writes = await daemon.queues.writes.accounting.getFailed();
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) {
      expect(write.attemptsMade).toBe(1);
      expect(write.failedReason).toContain(code);
    }
    expect(writes).toHaveLength(1);
    expect(accounting.updates).toHaveLength(1);
    expect(accounting.value('customer', a1, 'phone')).toBe('1');

    // The operator fixes the cause and retries the change.
    broken = false;
    await failed?.retry();
    await waitFor(() => accounting.value('customer', a1, 'phone') === '2', 10_000);
    await waitFor(async () => (await (await intake.getJob(changeJobId(change)))?.getState()) === 'completed', 10_000);
  },
);

test('HTTP 429 pauses the write queue for the wait asked and does not use up an attempt', async () => {
  const { crm, accounting, daemon, linked, contactChanged } = await start({ queue: { attempts: 1 } });
  await linked(c1, a1, { name: 'Busy Ltd', phone: '1' });
  let limited = false;
  accounting.beforeUpdate = () => {
    if (!limited) {
      limited = true;
      throw new RateLimitedError('429 Too Many Requests', 300);
    }
  };
  crm.edit('contact', c1, { phone: '2' });
  await contactChanged(c1);
  await waitFor(() => accounting.value('customer', a1, 'phone') === '2', 10_000);

  const [first, second] = accounting.updates;
  expect([first?.outcome, second?.outcome]).toEqual(['RATE_LIMITED', 'ok']);
  expect(second!.startedAt - first!.startedAt).toBeGreaterThanOrEqual(280);
  await settled(rig as FakeRig);
  const completed = await daemon.queues.writes.accounting.getCompleted();
  expect(completed).toHaveLength(1);
  expect(await daemon.queues.writes.accounting.getJobCounts('failed')).toMatchObject({ failed: 0 });
});

test("the connector's configured rate limit spreads writes out", async () => {
  const target = await start({ accounting: { rateLimit: { max: 2, per: '1s' }, concurrency: 8 } });
  const { accounting, daemon } = target;
  for (let index = 0; index < 6; index++) accounting.put('customer', `a${index}`, { name: `Limited ${index}` });
  await Promise.all(
    Array.from({ length: 6 }, async (_, index) =>
      daemon.queues.enqueueWrite(
        await fenced(target, `c${index}`, {
          connector: 'accounting',
          entity: 'customer',
          id: `a${index}`,
          fields: { phone: '9' },
          planId: `rate-${index}`,
        }),
      ),
    ),
  );
  await waitFor(() => accounting.updates.filter((call) => call.outcome === 'ok').length === 6, 10_000);
  const starts = accounting.updates.map((call) => call.startedAt).sort((a, b) => a - b);
  expect(starts[5]! - starts[0]!).toBeGreaterThanOrEqual(1900);
  // Never three calls within one window.
  for (let index = 2; index < starts.length; index++)
    expect(starts[index]! - starts[index - 2]!).toBeGreaterThanOrEqual(900);
});

test('a record changed between read and write (412) is re-read and planned again', async () => {
  const { crm, accounting, linked, contactChanged } = await start();
  await linked(c1, a1, { name: 'Stale Etag Oy', phone: '1' });
  let interfered = false;
  accounting.beforeUpdate = () => {
    if (interfered) return;
    interfered = true;
    // Someone renames the customer while tandem is about to write it.
    accounting.edit('customer', a1, { name: 'Stale Etag Oyj' });
  };
  crm.edit('contact', c1, { phone: '2' });
  await contactChanged(c1);
  await waitFor(() => accounting.value('customer', a1, 'phone') === '2', 10_000);

  const [stale, fresh] = accounting.updates;
  expect(stale?.outcome).toBe('PRECONDITION_FAILED');
  expect(fresh?.outcome).toBe('ok');
  expect(fresh?.ifMatch).not.toBe(stale?.ifMatch);
  // The re-plan saw the rename and carried it to the contact, and kept it on the customer.
  await waitFor(() => crm.value('contact', c1, 'name') === 'Stale Etag Oyj', 10_000);
  expect(accounting.value('customer', a1, 'name')).toBe('Stale Etag Oyj');
  expect(accounting.records.get(`customer:${a1}`)?.version).not.toBe(fresh?.ifMatch);
});

test('finished jobs are kept within bounds', async () => {
  const target = await start({ queue: { keepCompleted: 5 } });
  const { crm, accounting, daemon } = target;
  crm.put('contact', 'lonely', { name: 'No Relations' });
  accounting.put('customer', a1, { name: 'Target' });
  const changes = Array.from({ length: 20 }, (_, index) => ({
    connector: 'crm' as const,
    entity: 'contact' as const,
    id: 'lonely',
    occurredAt: new Date(Date.UTC(2024, 0, 1, 0, 0, index)).toISOString(),
    source: 'poll' as const,
  }));
  await daemon.queues.enqueueChanges(changes);
  const write = await fenced(target, c1, {
    connector: 'accounting',
    entity: 'customer',
    id: a1,
    fields: {},
    planId: '',
  });
  for (let index = 0; index < 20; index++)
    await daemon.queues.enqueueWrite({ ...write, fields: { phone: String(index) }, planId: `bound-${index}` });
  await waitFor(() => accounting.updates.length === 20, 10_000);
  await settled(rig as FakeRig);

  const { intake, writes } = daemon.queues;
  expect((await intake.getJobCounts('completed')).completed).toBeLessThanOrEqual(5);
  expect((await writes.accounting.getJobCounts('completed')).completed).toBeLessThanOrEqual(5);
  // The removed jobs' data is gone from Redis too, not just their place in the list.
  expect(await intake.getJob(changeJobId(changes[0]!))).toBeUndefined();
});
