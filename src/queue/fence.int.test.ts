/**
 * Fenced writes against real Redis and BullMQ: a write job runs only for the plan that is still
 * current for its contact. A planner that was killed (its lease ran out), that gave up waiting, or
 * that a newer plan replaced has its jobs refused unwritten, and the contact is planned again; a
 * target without etags is compared with what the plan read just before the write.
 */
import { Worker } from 'bullmq';
import type { Engine } from '../app/ports/index';
import type { RecordWrite } from '../core/plan';
import { clearPrefix, fakeCrm, quietLogger, REDIS_URL, testConfig, uniquePrefix } from '../../test/support/fakes';
import { contactLockKey, retryingContactLock, withContactLock } from './contact-lock';
import { QueueWriteDispatcher } from './dispatcher';
import type { WriteJob } from './jobs';
import { tryLock } from './lock';
import { SyncQueues } from './queues';
import { createRedis } from './redis';
import { startWriteWorker } from './workers';

const prefix = uniquePrefix();
const config = testConfig(prefix, { queue: { attempts: 1 } });
// The worker notes carried values in the store; this suite's records are not observed, so there is nothing to note.
const engine = { config, logger: quietLogger, store: { recordCarried: async () => undefined } } as unknown as Engine;
const redis = createRedis(REDIS_URL);
const connections = [redis];
const connection = () => {
  const own = redis.duplicate();
  connections.push(own);
  return own;
};
let queues: SyncQueues;
let worker: Worker<WriteJob> | undefined;
const replanned: WriteJob[] = [];

beforeEach(() => {
  queues = new SyncQueues(connection(), config.queue);
  replanned.length = 0;
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queues.close();
});
afterAll(async () => {
  await clearPrefix(prefix);
  connections.forEach((own) => own.disconnect());
});

let seq = 0;
/** A CRM with one company contact whose phone is '1', and no etags (as HubSpot). */
function crmWithContact() {
  const crm = fakeCrm();
  const id = `c${++seq}`;
  const record = crm.put('contact', id, { name: 'Fence BV', phone: '1' });
  delete record.version;
  return { crm, id };
}

/** The write a plan makes from the phone it read ('1') to the accounting side's newer one. */
const phoneWrite = (id: string, to: string): RecordWrite => ({
  system: 'crm',
  entity: 'contact',
  id,
  fields: { phone: to },
  changes: [
    {
      relationId: 'r1',
      field: 'phone',
      from: '1',
      to,
      direction: 'toCrm',
      sourceSystem: 'accounting',
      sourceModifiedAt: new Date().toISOString(),
    },
  ],
  relationIds: ['r1'],
});

function startWorker(crm: ReturnType<typeof fakeCrm>) {
  worker = startWriteWorker(
    engine,
    'crm',
    crm,
    config.connectors.crm,
    { connection: connection(), locks: redis, keyPrefix: prefix },
    {
      replan: async (write) => {
        replanned.push(write);
      },
    },
  );
}

const waitForJob = async (jobId: string) => {
  for (;;) {
    const state = await queues.writes.crm.getJobState(jobId);
    if (state === 'completed' || state === 'failed') return queues.writes.crm.getJob(jobId);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

test('a write job released after its planner was killed and a newer edit landed does not write', async () => {
  const { crm, id } = crmWithContact();
  // The planner takes the contact's lock and dispatches its write; no write worker runs yet.
  const plannerRedis = connection();
  const lock = await tryLock(plannerRedis, contactLockKey(prefix, id), 8_000, `${prefix}:fence:contact:${id}`);
  expect(lock).not.toBeNull();
  const job = await queues.enqueueWrite({
    connector: 'crm',
    entity: 'contact',
    id,
    fields: { phone: '2' },
    expected: { phone: '1' },
    planId: 'old-plan',
    fence: { contactId: id, token: lock?.token ?? '' },
  });
  // The planner is killed: its renewals stop with its connection, and its lease runs out.
  plannerRedis.disconnect();
  await redis.pexpire(contactLockKey(prefix, id), 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // A newer edit lands in the CRM, and a new plan of the contact takes the lock (fence 2).
  crm.edit('contact', id, { phone: '3' });
  const newer = await withContactLock(redis, prefix, id, async () => {
    startWorker(crm);
    return waitForJob(job.id ?? '');
  });

  expect(newer?.failedReason).toMatch(/^SUPERSEDED: crm contact c\d+ not written: the plan holding fence 1/);
  expect(crm.updates).toHaveLength(0);
  expect(crm.value('contact', id, 'phone')).toBe('3');
  expect(replanned.map((write) => write.planId)).toEqual(['old-plan']);
});

test('the fence alone refuses a dead planner’s write, even where the target still holds what it read', async () => {
  const { crm, id } = crmWithContact();
  const dispatcher = new QueueWriteDispatcher(queues);
  // The planner dispatches under the lock and stops waiting; the lock is released with it.
  const stale = withContactLock(redis, prefix, id, () => {
    const pending = dispatcher.dispatch([phoneWrite(id, '2')], { planId: 'gone' });
    setTimeout(() => dispatcher.close(), 100);
    return pending;
  });
  const outcomes = await stale;
  expect([...outcomes.values()][0]).toMatchObject({ ok: false });
  startWorker(crm);
  const [queued] = await queues.writes.crm.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  const job = await waitForJob(queued?.id ?? '');
  expect(job?.failedReason).toMatch(/^SUPERSEDED: /);
  expect(crm.updates).toHaveLength(0);
  expect(crm.value('contact', id, 'phone')).toBe('1');
  expect(replanned).toHaveLength(1);
});

test('a write of the current plan goes out, and its planner gets the record', async () => {
  const { crm, id } = crmWithContact();
  startWorker(crm);
  const outcomes = await withContactLock(redis, prefix, id, () =>
    new QueueWriteDispatcher(queues).dispatch([phoneWrite(id, '2')], { planId: 'current' }),
  );
  expect([...outcomes.values()][0]).toMatchObject({ ok: true, record: { fields: { phone: '2' } } });
  expect(crm.value('contact', id, 'phone')).toBe('2');
  // The intake's form of the lock fences just the same.
  const job = { moveToDelayed: () => Promise.resolve() } as never;
  const again = await retryingContactLock(redis, prefix, job).runOrRetryLater(id, () =>
    new QueueWriteDispatcher(queues).dispatch([{ ...phoneWrite(id, '4'), changes: [] }], { planId: 'intake' }),
  );
  expect([...again.values()][0]).toMatchObject({ ok: true });
  expect(replanned).toHaveLength(0);
});

test('a target that changed since the plan read it is not written; the live planner is told to re-plan', async () => {
  const { crm, id } = crmWithContact();
  startWorker(crm);
  const outcomes = await withContactLock(redis, prefix, id, async () => {
    // Edited in the CRM between the plan's read and its write.
    crm.edit('contact', id, { phone: '9' });
    return new QueueWriteDispatcher(queues).dispatch([phoneWrite(id, '2')], { planId: 'moved' });
  });
  expect([...outcomes.values()][0]).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
  expect(crm.updates).toHaveLength(0);
  expect(crm.value('contact', id, 'phone')).toBe('9');
  // The planner is alive and re-plans itself: no second plan is asked for.
  expect(replanned).toHaveLength(0);
});

test('a write job without a fencing token is refused unwritten', async () => {
  const { crm, id } = crmWithContact();
  startWorker(crm);
  const outcomes = await new QueueWriteDispatcher(queues).dispatch([phoneWrite(id, '2')], { planId: 'unfenced' });
  expect([...outcomes.values()][0]).toMatchObject({ ok: false, code: 'SUPERSEDED' });
  expect(crm.updates).toHaveLength(0);
  expect(replanned).toHaveLength(1);
});

test('a plan run again under a new lock does not take the earlier run’s finished write for its own', async () => {
  const { crm, id } = crmWithContact();
  startWorker(crm);
  // The first run writes and is then killed before it stored anything; its write job stays, completed.
  const first = await withContactLock(redis, prefix, id, () =>
    new QueueWriteDispatcher(queues).dispatch([phoneWrite(id, '2')], { planId: 'same-plan' }),
  );
  expect([...first.values()][0]).toMatchObject({ ok: true, record: { fields: { phone: '2' } } });
  // The job runs again with the same plan id (a stalled job keeps its attempt count) and plans anew.
  crm.edit('contact', id, { phone: '1' });
  const again = await withContactLock(redis, prefix, id, () =>
    new QueueWriteDispatcher(queues).dispatch([phoneWrite(id, '5')], { planId: 'same-plan' }),
  );
  expect([...again.values()][0]).toMatchObject({ ok: true, record: { fields: { phone: '5' } } });
  expect(crm.value('contact', id, 'phone')).toBe('5');
  expect(crm.updates.map((update) => update.fields)).toEqual([{ phone: '2' }, { phone: '5' }]);
});

test('a completed write is known as done after BullMQ has let go of its job; a refused one is not', async () => {
  const { crm, id } = crmWithContact();
  startWorker(crm);
  const dispatcher = new QueueWriteDispatcher(queues);
  const written = await withContactLock(redis, prefix, id, () =>
    dispatcher.dispatch([phoneWrite(id, '2')], { planId: 'done-note' }),
  );
  const jobId = [...written.values()][0]?.ok ? ([...written.values()][0] as { jobId: string }).jobId : '';
  expect(jobId).not.toBe('');
  // BullMQ keeps only the newest finished jobs (queue.keepCompleted); this one is gone.
  await (await queues.writes.crm.getJob(jobId))?.remove();
  await expect(queues.writes.crm.getJob(jobId)).resolves.toBeUndefined();
  // A write without a fence is refused unwritten: no note, and its failed job says so.
  await dispatcher.dispatch([phoneWrite(id, '3')], { planId: 'unfenced' });
  const [refused] = await queues.writes.crm.getFailed();
  expect(refused?.id).toBeDefined();
  await expect(dispatcher.completed([jobId, refused?.id ?? ''])).resolves.toEqual(new Set([jobId]));
});
