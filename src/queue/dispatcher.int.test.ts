/**
 * The write dispatcher against real Redis: it waits for each write job's outcome by event or by
 * reading the job's state, and close() ends every pending wait at once.
 */
import { Worker } from 'bullmq';
import { clearPrefix, REDIS_URL, uniquePrefix } from '../../test/support/fakes';
import type { RecordWrite } from '../core/plan';
import { QueueWriteDispatcher } from './dispatcher';
import { writeQueueName, SyncQueues } from './queues';
import { createRedis } from './redis';
import type { WriteJob } from './jobs';

const prefix = uniquePrefix();
const connection = createRedis(REDIS_URL);
const queueConfig = { prefix, intakeConcurrency: 1, attempts: 1, backoff: 10, keepCompleted: 100, keepFailed: 100 };
let queues: SyncQueues;
let worker: Worker<WriteJob> | undefined;
const workerConnections: Array<ReturnType<typeof createRedis>> = [];
let seq = 0;

const write = (fields: Record<string, string>): RecordWrite =>
  ({
    system: 'accounting',
    entity: 'customer',
    id: `a-${++seq}`,
    fields,
    changes: [],
    relationIds: [],
  }) as unknown as RecordWrite;

/** A write worker that answers with `handle`. */
function startWorker(handle: (job: WriteJob) => Promise<unknown>) {
  const own = connection.duplicate();
  // BullMQ leaves a connection it was given open.
  workerConnections.push(own);
  worker = new Worker<WriteJob>(writeQueueName('accounting'), async (job) => handle(job.data), {
    connection: own,
    prefix,
  });
}

beforeEach(() => {
  queues = new SyncQueues(connection, queueConfig as never);
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queues.close();
});
afterAll(async () => {
  await clearPrefix(prefix);
  workerConnections.forEach((own) => own.disconnect());
  connection.disconnect();
});

test('a completed write resolves with the record the worker returned', async () => {
  startWorker(async (job) => ({ id: job.id, fields: job.fields, modifiedAt: '2026-01-01T00:00:00.000Z' }));
  const dispatcher = new QueueWriteDispatcher(queues);
  const target = write({ phone: '2' });
  const outcomes = await dispatcher.dispatch([target], { planId: 'p1' });
  expect([...outcomes.values()]).toEqual([
    {
      ok: true,
      jobId: expect.any(String),
      record: { id: target.id, fields: { phone: '2' }, modifiedAt: '2026-01-01T00:00:00.000Z' },
    },
  ]);
});

test('a failed write resolves as not confirmed, with the error code the worker gave', async () => {
  startWorker(async () => {
    throw new Error('INVALID_REQUEST: postCode is too long');
  });
  const outcomes = await new QueueWriteDispatcher(queues).dispatch([write({ postCode: 'x'.repeat(40) })], {
    planId: 'p2',
  });
  expect([...outcomes.values()]).toEqual([
    { ok: false, error: 'INVALID_REQUEST: postCode is too long', code: 'INVALID_REQUEST' },
  ]);
});

test('close() ends a wait for a write no worker takes, at once, as not confirmed', async () => {
  const dispatcher = new QueueWriteDispatcher(queues);
  const pending = dispatcher.dispatch([write({ phone: '3' })], { planId: 'p3' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const closedAt = Date.now();
  dispatcher.close();
  const outcomes = await pending;
  expect(Date.now() - closedAt).toBeLessThan(1_000);
  expect([...outcomes.values()]).toEqual([
    { ok: false, error: 'the daemon stopped before the write was confirmed', code: undefined },
  ]);
  // Nothing is dispatched after close.
  const after = await dispatcher.dispatch([write({ phone: '4' })], { planId: 'p4' });
  expect([...after.values()]).toEqual([
    { ok: false, error: 'the daemon stopped before the write was confirmed', code: undefined },
  ]);
  expect((await queues.writes.accounting.getJobCounts('waiting')).waiting).toBe(1);
});

test('a write completed before the wait began is found by reading its state', async () => {
  startWorker(async (job) => ({ id: job.id, fields: job.fields, modifiedAt: '2026-01-02T00:00:00.000Z' }));
  const target = write({ city: 'Delft' });
  // The same job id the dispatcher will use, run to completion before it is dispatched.
  const data = {
    connector: 'accounting',
    entity: 'customer',
    id: target.id,
    fields: target.fields,
    planId: 'p5',
  } as WriteJob;
  const early = await queues.enqueueWrite(data);
  await new Promise<void>((resolve) => worker?.on('completed', (job) => job.id === early.id && resolve()));
  await worker?.close();
  worker = undefined;
  const outcomes = await new QueueWriteDispatcher(queues).dispatch([target], { planId: 'p5' });
  expect([...outcomes.values()]).toEqual([
    {
      ok: true,
      jobId: early.id,
      record: { id: target.id, fields: { city: 'Delft' }, modifiedAt: '2026-01-02T00:00:00.000Z' },
    },
  ]);
});

test('a completed write without a record is not taken as confirmed', async () => {
  startWorker(async () => null);
  const outcomes = await new QueueWriteDispatcher(queues).dispatch([write({ phone: '5' })], { planId: 'p6' });
  expect([...outcomes.values()]).toEqual([
    { ok: false, error: expect.stringMatching(/completed without the written record$/), code: undefined },
  ]);
});
