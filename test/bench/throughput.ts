/**
 * Throughput against its reference, both measured in this run on the same Redis: raw BullMQ
 * no-op jobs per second (the ceiling of any queue-based design on this machine), and tandem's
 * end-to-end changes per second with the sandboxes at 0 ms latency and their limits off, so that
 * what is left is tandem's own work. tandem runs as a user runs it, `tandem start` in a process of
 * its own with its default store (PGlite in a data directory; BENCH_DATABASE_URL names a
 * PostgreSQL database instead) and its default budget (the calls of the run stay far below the
 * providers' ceilings). The sandboxes and the bench's own checks run in the bench's process and
 * take no CPU time from tandem's.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { startBusinessCentralSandbox } from '../../connectors/business-central/sandbox';
import { startHubSpotSandbox } from '../../connectors/hubspot/sandbox';
import { clearPrefix } from '../support/fakes';
import { REDIS_URL, toBc, toHubSpot } from '../support/harness';
import { awaitArrivals, phoneOf, profiled, round } from './common';
import {
  BENCH_HUBSPOT_SECRET,
  BENCH_HUBSPOT_TOKEN,
  benchConfigText,
  benchSecrets,
  runFirstSync,
  startTandemProcess,
  tandemQuiet,
  type TandemProcess,
} from './tandem-process';

/**
 * The raw queue's jobs, and its workers' concurrencies: a common one and tandem's intake and write
 * default. The faster of the two is the reference.
 */
const RAW_JOBS = Number(process.env.BENCH_RAW_JOBS ?? 20_000);
const RAW_CONCURRENCIES = [32, 1000];

export interface ThroughputResult {
  raw: { jobs: number; concurrency: number; durationMs: number; jobsPerSecond: number };
  tandem: {
    changes: number;
    arrived: number;
    durationMs: number;
    changesPerSecond: number;
    /** tandem's process: CPU time used from the first edit to the last arrival, per change. */
    cpuMsPerChange: number;
    store: 'pglite' | 'postgres';
  };
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

/**
 * tandem: N companies and N customers with the same VAT numbers, linked by a first sync, then
 * every company's phone changed at once, until each is on its customer.
 */
async function tandemChanges(changes: number): Promise<ThroughputResult['tandem']> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  const prefix = `bench${randomUUID().slice(0, 8)}`;
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? '';
  const limitsOff = { latencyMs: 0, rateLimits: false } as const;
  const hubspot = await startHubSpotSandbox({ ...limitsOff, token: BENCH_HUBSPOT_TOKEN, log: () => undefined });
  const bc = await startBusinessCentralSandbox({ ...limitsOff, notificationDelayMs: 20 });
  let tandem: TandemProcess | undefined;
  try {
    const pairs = Array.from({ length: changes }, (_, index) => {
      const fields = {
        name: `Bench Company ${index}`,
        city: 'Amsterdam',
        phone: phoneOf(index),
        vatRegistrationNo: `NL${String(100_000_000 + index)}B01`,
      };
      return {
        hubspotId: hubspot.createCompany(toHubSpot(fields)).id,
        customerId: String(bc.createCustomer(toBc(fields)).id),
      };
    });
    tandem = await startTandemProcess({
      config: (port) => benchConfigText(hubspot, bc, prefix, port, { accountingWebhooks: true }),
      env: { ...benchSecrets(bc), DATABASE_URL: databaseUrl, TANDEM_DATA_DIR: join(dir, 'data') },
      dir,
      name: 'throughput',
    });
    hubspot.setWebhookTarget({
      targetUrl: `${tandem.url}/webhooks/crm`,
      clientSecret: BENCH_HUBSPOT_SECRET,
      batchDelayMs: 10,
    });
    const report = await runFirstSync(tandem);
    if (report.outcome.linked !== changes)
      throw new Error(`the first sync linked ${report.outcome.linked} of the ${changes} pairs`);
    await tandemQuiet(tandem, { hubspot, bc });

    const before = tandem.usage();
    const startedAt = Date.now();
    const { lastArrival, pending } = await profiled('throughput', () => {
      for (const [index, pair] of pairs.entries()) hubspot.updateCompany(pair.hubspotId, { phone: phoneOf(index, 1) });
      return awaitArrivals(
        { hubspot, bc },
        pairs.map((pair, index) => ({ side: 'accounting', id: pair.customerId, expected: phoneOf(index, 1) })),
        startedAt,
        startedAt + 300_000,
      );
    });
    const cpuMs = tandem.usage().cpuMs - before.cpuMs;
    await tandemQuiet(tandem, { hubspot, bc });
    const durationMs = Math.max(1, lastArrival - startedAt);
    const arrived = changes - pending;
    return {
      changes,
      arrived,
      durationMs,
      changesPerSecond: round(arrived / (durationMs / 1000)),
      cpuMsPerChange: round(cpuMs / Math.max(1, arrived), 3),
      store: databaseUrl === '' ? 'pglite' : 'postgres',
    };
  } finally {
    await tandem?.stop();
    await Promise.all([hubspot.close(), bc.close()]);
    await clearPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
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
