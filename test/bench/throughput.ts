/**
 * Throughput against its reference, both measured in this run on the same Redis: raw BullMQ
 * no-op jobs per second (the ceiling of any queue-based design on this machine), and tandem's
 * end-to-end changes per second with the sandboxes at 0 ms latency and every limit off (the
 * sandboxes' and tandem's own budget), so that what is left is tandem's own work.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { REDIS_URL } from '../support/harness';
import { awaitArrivals, linkPairs, phoneOf, profiled, quiet, round, startBenchRig, unlimitedBudget } from './common';

/**
 * The raw queue's jobs, and its workers' concurrencies: a common one and tandem's intake and write
 * default. The faster of the two is the reference.
 */
const RAW_JOBS = Number(process.env.BENCH_RAW_JOBS ?? 20_000);
const RAW_CONCURRENCIES = [32, 1000];

export interface ThroughputResult {
  raw: { jobs: number; concurrency: number; durationMs: number; jobsPerSecond: number };
  tandem: { changes: number; arrived: number; durationMs: number; changesPerSecond: number };
  ratio: number;
}

/** Raw BullMQ: N no-op jobs added in bulk, drained by one worker at tandem's concurrency. */
async function rawBullmq(jobs: number, concurrency: number): Promise<ThroughputResult['raw']> {
  const prefix = `bench${randomUUID().slice(0, 8)}`;
  const connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const workerConnection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  let done = 0;
  let resolveDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (resolveDone = resolve));
  const worker = new Worker('noop', () => Promise.resolve(), {
    connection: workerConnection,
    prefix,
    concurrency,
    autorun: false,
  });
  worker.on('completed', () => {
    if (++done === jobs) resolveDone();
  });
  try {
    const startedAt = Date.now();
    for (let start = 0; start < jobs; start += 1000)
      await queue.addBulk(
        Array.from({ length: Math.min(1000, jobs - start) }, (_, index) => ({
          name: 'noop',
          data: { n: start + index },
          opts: { removeOnComplete: true, removeOnFail: true },
        })),
      );
    void worker.run();
    await finished;
    const durationMs = Date.now() - startedAt;
    return { jobs, concurrency, durationMs, jobsPerSecond: round(jobs / (durationMs / 1000)) };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    workerConnection.disconnect();
  }
}

/** tandem: N linked pairs, every company's phone changed at once, until each is on its customer. */
async function tandemChanges(changes: number): Promise<ThroughputResult['tandem']> {
  const rig = await startBenchRig({
    hubspot: { latencyMs: 0, rateLimits: false },
    bc: { latencyMs: 0, rateLimits: false },
    connectorOptions: { budget: unlimitedBudget() },
  });
  try {
    const pairs = await linkPairs(rig, changes);
    const startedAt = Date.now();
    const { lastArrival, pending } = await profiled('throughput', () => {
      for (const [index, pair] of pairs.entries())
        rig.hubspot.updateCompany(pair.hubspotId, { phone: phoneOf(index, 1) });
      return awaitArrivals(
        rig,
        pairs.map((pair, index) => ({ side: 'accounting', id: pair.customerId, expected: phoneOf(index, 1) })),
        startedAt,
        startedAt + 300_000,
      );
    });
    await quiet(rig);
    const durationMs = Math.max(1, lastArrival - startedAt);
    const arrived = changes - pending;
    return { changes, arrived, durationMs, changesPerSecond: round(arrived / (durationMs / 1000)) };
  } finally {
    await rig.stop();
  }
}

/** A first, discarded run of the raw queue: a cold Redis and JIT made the reference run up to 2.5x slow. */
const RAW_WARM_UP_JOBS = 2_000;

export async function measureThroughput(changes: number): Promise<ThroughputResult> {
  await rawBullmq(RAW_WARM_UP_JOBS, RAW_CONCURRENCIES[0] ?? 32);
  let raw: ThroughputResult['raw'] | undefined;
  for (const concurrency of RAW_CONCURRENCIES) {
    const measured = await rawBullmq(RAW_JOBS, concurrency);
    if (raw === undefined || measured.jobsPerSecond > raw.jobsPerSecond) raw = measured;
  }
  if (raw === undefined) throw new Error('no raw BullMQ concurrency to measure');
  const tandem = await tandemChanges(changes);
  return { raw, tandem, ratio: round(tandem.changesPerSecond / raw.jobsPerSecond, 4) };
}
