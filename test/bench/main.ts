/**
 * `npm run bench`: end-to-end latency, throughput, API calls and memory of one burst of CRM
 * changes through the full rig (both sandboxes, PGlite store, real Redis, the daemon).
 *
 * N linked companies (BENCH_CONTACTS, default 200) are created in bulk and synced once; then the
 * phone of every company is changed in the CRM sandbox at the same moment, and the bench waits
 * until each new value is visible on the linked customer in the accounting sandbox.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '../../src/util/net';
import { settle, startRig, toBc, toHubSpot, type Rig } from '../support/harness';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 200);
const POLL_EVERY_MS = 20;
const ARRIVAL_TIMEOUT_MS = 120_000;
const ARTIFACT = join(__dirname, '..', '..', '..', 'test', 'artifacts', 'bench.json');

/** The targets, as stated for a burst of 200 contacts. */
const TARGETS = {
  p95LatencyMs: 2_000,
  changesPerSecond: 50,
  accountingCallsPerChange: 3,
  heapGrowthMb: 100,
};

/** One linked company: its HubSpot id and the id of its customer in Business Central. */
interface LinkedPair {
  hubspotId: string;
  customerId: string;
}

/** A process memory reading, in MB. */
interface MemoryReading {
  rssMb: number;
  heapUsedMb: number;
}

/** Reads the process memory, in MB. */
function memory(): MemoryReading {
  const usage = process.memoryUsage();
  return { rssMb: toMb(usage.rss), heapUsedMb: toMb(usage.heapUsed) };
}

function toMb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/**
 * Runs a full garbage collection when the runtime allows it: with --expose-gc, or by switching
 * the flag on at run time (https://nodejs.org/api/v8.html#v8setflagsfromstringflags).
 */
function collectGarbage(): boolean {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) {
    exposed();
    return true;
  }
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (() => void) | undefined;
    if (typeof gc !== 'function') return false;
    gc();
    return true;
  } catch {
    return false;
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Creates N companies and customers directly in the sandboxes, links them, and syncs them once. */
async function linkCompanies(rig: Rig, count: number): Promise<LinkedPair[]> {
  const pairs: LinkedPair[] = [];
  for (let index = 0; index < count; index++) {
    const fields = {
      name: `Bench Company ${index}`,
      city: 'Amsterdam',
      phone: `+31 20 000 ${String(index).padStart(4, '0')}`,
    };
    const company = rig.hubspot.createCompany(toHubSpot(fields));
    const customer = rig.bc.createCustomer(toBc(fields));
    pairs.push({ hubspotId: company.id, customerId: String(customer.id) });
  }
  await Promise.all(
    pairs.map((pair) =>
      rig.store.createRelation({
        contactId: `company-${pair.hubspotId}`,
        accountKind: 'customer',
        accountId: pair.customerId,
        relationCode: rig.config.relationCodes.customer ?? 'CUST',
        origin: 'linked',
      }),
    ),
  );
  await rig.daemon.queues.enqueueChanges(
    pairs.map((pair) => ({ connector: 'crm', entity: 'contact', id: `company-${pair.hubspotId}`, source: 'manual' })),
  );
  const relationIds = (
    await Promise.all(pairs.map((pair) => rig.store.findRelationsByContact(`company-${pair.hubspotId}`)))
  )
    .flat()
    .map((relation) => relation.id);
  await waitFor(
    async () => {
      const shadows = await rig.store.getShadows(relationIds);
      return relationIds.every((id) => (shadows.get(id)?.length ?? 0) > 0);
    },
    120_000,
    100,
  );
  await rig.hubspot.flushWebhooks();
  await rig.bc.flushNotifications();
  await settle(rig, 120_000);
  return pairs;
}

/** What one burst measured. */
interface BurstResult {
  latenciesMs: number[];
  missing: number;
  durationMs: number;
}

/** Changes every company's phone at once and waits until each value is on its customer. */
async function runBurst(rig: Rig, pairs: LinkedPair[]): Promise<BurstResult> {
  const pending = new Map<string, { expected: string; changedAt: number }>();
  const startedAt = Date.now();
  for (const [index, pair] of pairs.entries()) {
    const phone = `+31 20 999 ${String(index).padStart(4, '0')}`;
    rig.hubspot.updateCompany(pair.hubspotId, { phone });
    pending.set(pair.customerId, { expected: phone, changedAt: Date.now() });
  }
  const latenciesMs: number[] = [];
  let lastArrival = startedAt;
  const deadline = startedAt + ARRIVAL_TIMEOUT_MS;
  while (pending.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
    const now = Date.now();
    for (const [customerId, change] of pending) {
      if (rig.bc.getCustomer(customerId)?.phoneNumber !== change.expected) continue;
      latenciesMs.push(now - change.changedAt);
      lastArrival = now;
      pending.delete(customerId);
    }
  }
  return {
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    missing: pending.size,
    durationMs: Math.max(1, lastArrival - startedAt),
  };
}

/** Counts logged requests by "METHOD kind", where kind is the last path segment without ids. */
function breakdown(requests: readonly { method: string; path: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of requests) {
    const last = request.path.split('/').filter(Boolean).at(-1) ?? request.path;
    const kind = `${request.method} ${last.replace(/\([^)]*\)/g, '(id)').replace(/^\d+$/, '{id}')}`;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

async function main(): Promise<number> {
  if (!Number.isInteger(CONTACTS) || CONTACTS < 1)
    throw new Error(`BENCH_CONTACTS must be a positive integer, not ${String(process.env.BENCH_CONTACTS)}`);
  // The product's queue settings (intake concurrency, retries), not the test rig's.
  const rig = await startRig({
    store: 'pglite',
    config: (base) => ({ ...base, queue: { prefix: (base['queue'] as { prefix: string }).prefix } }),
  });
  console.log(
    `${'intake concurrency'.padEnd(34)}${rig.config.queue.intakeConcurrency} (connector concurrency ${rig.config.connectors.accounting.concurrency})`,
  );
  try {
    const setupStartedAt = Date.now();
    const pairs = await linkCompanies(rig, CONTACTS);
    const setupMs = Date.now() - setupStartedAt;

    const gcAvailable = collectGarbage();
    const before = memory();
    rig.hubspot.resetRequests();
    rig.bc.clearRequestLog();

    const burst = await runBurst(rig, pairs);
    const afterArrival = memory();
    // Echoes (the accounting write notifying back) are part of what a change costs.
    await rig.hubspot.flushWebhooks();
    await rig.bc.flushNotifications();
    await settle(rig, 60_000);
    const after = memory();
    const afterGc = collectGarbage() ? memory() : null;

    const changes = pairs.length;
    const crmCalls = rig.hubspot.requests.length;
    const accountingCalls = rig.bc.requests.length;
    const sorted = burst.latenciesMs;
    const result = {
      contacts: changes,
      setupMs,
      arrived: sorted.length,
      missing: burst.missing,
      latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? Number.NaN },
      durationMs: burst.durationMs,
      changesPerSecond: Math.round((sorted.length / (burst.durationMs / 1000)) * 10) / 10,
      apiCalls: {
        crm: {
          total: crmCalls,
          perChange: Math.round((crmCalls / changes) * 100) / 100,
          byKind: breakdown(rig.hubspot.requests),
        },
        accounting: {
          total: accountingCalls,
          perChange: Math.round((accountingCalls / changes) * 100) / 100,
          byKind: breakdown(rig.bc.requests),
        },
      },
      memory: { gcAvailable, before, afterArrival, after, afterGc },
    };
    const heapGrowthMb = Math.round(((afterGc ?? after).heapUsedMb - before.heapUsedMb) * 10) / 10;
    const checks = [
      {
        target: `p95 latency < ${TARGETS.p95LatencyMs} ms`,
        actual: `${result.latencyMs.p95} ms`,
        pass: burst.missing === 0 && result.latencyMs.p95 < TARGETS.p95LatencyMs,
      },
      {
        target: `throughput >= ${TARGETS.changesPerSecond} changes/s`,
        actual: `${result.changesPerSecond} changes/s`,
        pass: result.changesPerSecond >= TARGETS.changesPerSecond,
      },
      {
        target: `accounting calls per change <= ${TARGETS.accountingCallsPerChange}`,
        actual: `${result.apiCalls.accounting.perChange}`,
        pass: result.apiCalls.accounting.perChange <= TARGETS.accountingCallsPerChange,
      },
      {
        target: `heap growth < ${TARGETS.heapGrowthMb} MB`,
        actual: `${heapGrowthMb} MB${afterGc ? ' (after GC)' : ''}`,
        pass: heapGrowthMb < TARGETS.heapGrowthMb,
      },
    ];

    mkdirSync(join(ARTIFACT, '..'), { recursive: true });
    writeFileSync(
      ARTIFACT,
      `${JSON.stringify({ ...result, heapGrowthMb, targets: checks, at: new Date().toISOString() }, null, 2)}\n`,
    );
    report(result, checks);
    return checks.every((check) => check.pass) ? 0 : 1;
  } finally {
    await rig.stop();
  }
}

function report(
  result: {
    contacts: number;
    setupMs: number;
    arrived: number;
    missing: number;
    latencyMs: { p50: number; p95: number; max: number };
    durationMs: number;
    changesPerSecond: number;
    apiCalls: Record<'crm' | 'accounting', { total: number; perChange: number; byKind: Record<string, number> }>;
    memory: { before: MemoryReading; after: MemoryReading; afterGc: MemoryReading | null };
  },
  checks: { target: string; actual: string; pass: boolean }[],
): void {
  const { memory: readings } = result;
  const rows: [string, string][] = [
    ['contacts', `${result.contacts} (set up in ${result.setupMs} ms)`],
    [
      'arrived',
      `${result.arrived}${result.missing > 0 ? `, ${result.missing} missing after ${ARRIVAL_TIMEOUT_MS} ms` : ''}`,
    ],
    ['latency p50 / p95 / max', `${result.latencyMs.p50} / ${result.latencyMs.p95} / ${result.latencyMs.max} ms`],
    ['burst duration', `${result.durationMs} ms`],
    ['throughput', `${result.changesPerSecond} changes/s`],
    [
      'CRM calls',
      `${result.apiCalls.crm.total} (${result.apiCalls.crm.perChange}/change) ${JSON.stringify(result.apiCalls.crm.byKind)}`,
    ],
    [
      'accounting calls',
      `${result.apiCalls.accounting.total} (${result.apiCalls.accounting.perChange}/change) ${JSON.stringify(result.apiCalls.accounting.byKind)}`,
    ],
    [
      'RSS before / after / after GC',
      `${readings.before.rssMb} / ${readings.after.rssMb} / ${readings.afterGc?.rssMb ?? 'n/a'} MB`,
    ],
    [
      'heap before / after / after GC',
      `${readings.before.heapUsedMb} / ${readings.after.heapUsedMb} / ${readings.afterGc?.heapUsedMb ?? 'n/a'} MB`,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length), ...checks.map((check) => check.target.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  console.log('');
  for (const check of checks)
    console.log(`${check.target.padEnd(width)}  ${check.actual.padEnd(16)}  ${check.pass ? 'PASS' : 'FAIL'}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
