/**
 * What every part of the bench shares: the providers' published ceilings and batch sizes (from
 * which the floors are computed), the rig as the product runs it, linking pairs, counting the
 * sandboxes' calls, and the shape of a target line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import type { SandboxRequest } from '../../connectors/kit/sandbox/server';
import { waitFor } from '../../src/util/net';
import { settle, startRig, toBc, toHubSpot, type Rig, type RigOptions } from '../support/harness';

/**
 * The providers' ceilings as the sandboxes enforce them (token buckets that start full: a burst
 * of `limit` passes, then `limit` per `windowMs`) and their batch sizes. HubSpot's reads that
 * carry property history (which the sync's last-writer-wins needs) take 50 ids, its batch update
 * 100; Business Central's JSON $batch takes 100 requests, reads or writes.
 */
export const PROVIDERS = {
  crm: { name: 'HubSpot', limit: 190, windowMs: 10_000, readBatch: 50, writeBatch: 100, pageSize: 100 },
  accounting: {
    name: 'Business Central',
    limit: 6000,
    windowMs: 300_000,
    readBatch: 100,
    writeBatch: 100,
    pageSize: 100,
  },
} as const;

/** A side of the sync, as the config names it. */
export type Side = keyof typeof PROVIDERS;

/**
 * The least time `calls` calls can take under a side's ceiling, with its bucket full at the
 * start: the burst passes at once, the rest at the refill rate.
 */
export function ceilingFloorMs(side: Side, calls: number): number {
  const { limit, windowMs } = PROVIDERS[side];
  return (Math.max(0, calls - limit) * windowMs) / limit;
}

/** One line of the verdict: what was measured, against what, and whether it holds. */
export interface Check {
  name: string;
  measured: string;
  target: string;
  /** null: a figure reported without a target. */
  pass: boolean | null;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How often a part looks for arrivals. Each look reads every pending record through the sandbox,
 * in this process, so looking more often takes CPU from tandem; an arrival is seen at most this
 * late, so a drain time errs long, never short.
 */
export const ARRIVAL_CHECK_MS = 100;

/**
 * A rate-limit clock for a sandbox that the bench can move forward: `refill()` fills every bucket
 * again, as waiting out the provider's window would, so that the setup's calls do not eat into
 * the measured burst's ceiling.
 */
export function movableClock(): { now: () => number; refill: () => void } {
  let offsetMs = 0;
  return { now: () => Date.now() + offsetMs, refill: () => (offsetMs += 24 * 60 * 60 * 1000) };
}

/**
 * The rig with the product's defaults for what the bench measures (queue settings, intake and
 * write concurrency), not the test rig's smaller numbers.
 */
export function startBenchRig(options: RigOptions = {}): Promise<Rig> {
  return startRig({
    store: 'pglite',
    ...options,
    config: (base) => {
      const connectors = base['connectors'] as Record<string, Record<string, unknown>>;
      const productConnectors = Object.fromEntries(
        Object.entries(connectors).map(([slot, { concurrency: _concurrency, ...rest }]) => [slot, rest]),
      );
      const withProduct = {
        ...base,
        connectors: productConnectors,
        queue: { prefix: (base['queue'] as { prefix: string }).prefix },
      };
      return options.config ? options.config(withProduct) : withProduct;
    },
  });
}

/** One linked company: its HubSpot id and the id of its customer in Business Central. */
export interface LinkedPair {
  hubspotId: string;
  customerId: string;
}

/** The phone a pair starts with, and after its n-th edit. */
export const phoneOf = (index: number, edit = 0) =>
  `+31 ${String(20 + edit).padStart(2, '0')} ${String(index).padStart(7, '0')}`;

/**
 * Creates N companies and customers with the same fields directly in the sandboxes, links them,
 * and syncs them once (in chunks, so the setup's queue stays modest), then waits until quiet.
 */
export async function linkPairs(rig: Rig, count: number, timeoutMs = 600_000): Promise<LinkedPair[]> {
  const pairs: LinkedPair[] = [];
  for (let index = 0; index < count; index++) {
    const fields = { name: `Bench Company ${index}`, city: 'Amsterdam', phone: phoneOf(index) };
    const company = rig.hubspot.createCompany(toHubSpot(fields));
    const customer = rig.bc.createCustomer(toBc(fields));
    pairs.push({ hubspotId: company.id, customerId: String(customer.id) });
  }
  const chunk = 500;
  for (let start = 0; start < pairs.length; start += chunk) {
    const slice = pairs.slice(start, start + chunk);
    const relations = await Promise.all(
      slice.map((pair) =>
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
      slice.map((pair) => ({ connector: 'crm', entity: 'contact', id: `company-${pair.hubspotId}`, source: 'manual' })),
    );
    const relationIds = relations.map((relation) => relation.id);
    await waitFor(
      async () => {
        const shadows = await rig.store.getShadows(relationIds);
        return relationIds.every((id) => (shadows.get(id)?.length ?? 0) > 0);
      },
      timeoutMs,
      100,
    );
  }
  await quiet(rig, timeoutMs);
  return pairs;
}

/** Flushes both sandboxes' webhooks and waits until tandem's queues are quiet. */
export async function quiet(rig: Rig, timeoutMs = 120_000): Promise<void> {
  await rig.hubspot.flushWebhooks();
  await rig.bc.flushNotifications();
  await settle(rig, timeoutMs);
}

/** A record write found in a sandbox's request log: which record, on which side. */
export interface RecordWrite {
  side: Side;
  id: string;
  at: number;
}

const bodyInputs = (body: unknown): { id?: unknown }[] =>
  Array.isArray((body as { inputs?: unknown } | undefined)?.inputs)
    ? (body as { inputs: { id?: unknown }[] }).inputs
    : [];
const batchRequests = (body: unknown): { method?: unknown; url?: unknown }[] =>
  Array.isArray((body as { requests?: unknown } | undefined)?.requests)
    ? (body as { requests: { method?: unknown; url?: unknown }[] }).requests
    : [];

/**
 * Every record write in the logs, one per record however the calls batched them: HubSpot's
 * batch/update inputs and single PATCHes, Business Central's PATCHes alone or inside a $batch.
 */
export function recordWrites(crm: readonly SandboxRequest[], accounting: readonly SandboxRequest[]): RecordWrite[] {
  const writes: RecordWrite[] = [];
  for (const request of crm) {
    if (request.method === 'POST' && request.path.endsWith('/batch/update'))
      for (const input of bodyInputs(request.requestBody))
        writes.push({ side: 'crm', id: String(input.id), at: request.at });
    const single = /^\/crm\/v3\/objects\/companies\/(\d+)$/.exec(request.path);
    if (request.method === 'PATCH' && single) writes.push({ side: 'crm', id: single[1] as string, at: request.at });
  }
  const customerId = (url: string) => /customers\(([^)]+)\)/.exec(url)?.[1];
  for (const request of accounting) {
    const inner =
      request.path === '$batch'
        ? batchRequests(request.requestBody).map((entry) => ({
            method: String(entry.method).toUpperCase(),
            url: String(entry.url),
          }))
        : [{ method: request.method, url: request.path }];
    for (const { method, url } of inner) {
      const id = customerId(url);
      if (method === 'PATCH' && id !== undefined) writes.push({ side: 'accounting', id, at: request.at });
    }
  }
  return writes;
}

/** Counts logged requests by "METHOD kind", where kind is the last path segment without ids. */
export function breakdown(requests: readonly { method: string; path: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of requests) {
    const last = request.path.split('/').filter(Boolean).at(-1) ?? request.path;
    const kind = `${request.method} ${last.replace(/\([^)]*\)/g, '(id)').replace(/^\d+$/, '{id}')}`;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** A change the bench waits for: the record on `side` that is to hold `expected` as its phone. */
export interface PendingChange {
  side: Side;
  id: string;
  expected: string;
}

/** Whether the record of a pending change holds its value. */
function holds(rig: Pick<Rig, 'hubspot' | 'bc'>, change: PendingChange): boolean {
  return change.side === 'accounting'
    ? rig.bc.getCustomer(change.id)?.phoneNumber === change.expected
    : rig.hubspot.getCompany(change.id)?.properties['phone'] === change.expected;
}

/**
 * Waits until every change has arrived, or until `deadline`, looking every ARRIVAL_CHECK_MS. A
 * record takes a new value only by a write, so a look reads only the records the sandboxes'
 * request logs show written since the look before, and those written earlier that did not hold
 * their value yet: looking costs the same however many changes are pending, and takes little CPU
 * from tandem. Arrival is still confirmed on the record itself. Answers when the last arrival
 * was seen (`startedAt` if none) and how many never arrived.
 */
export async function awaitArrivals(
  rig: Pick<Rig, 'hubspot' | 'bc'>,
  changes: readonly PendingChange[],
  startedAt: number,
  deadline: number,
): Promise<{ lastArrival: number; pending: number }> {
  const key = (side: Side, id: string) => `${side}:${id}`;
  const pending = new Map(changes.map((change) => [key(change.side, change.id), change]));
  const written = new Set<string>();
  let seen = { crm: 0, accounting: 0 };
  let lastArrival = startedAt;
  while (pending.size > 0 && Date.now() < deadline) {
    await sleep(ARRIVAL_CHECK_MS);
    const logs = { crm: rig.hubspot.requests, accounting: rig.bc.requests };
    // A log that was reset meanwhile is read again from its start.
    const from = (side: Side) => (seen[side] <= logs[side].length ? seen[side] : 0);
    for (const write of recordWrites(logs.crm.slice(from('crm')), logs.accounting.slice(from('accounting'))))
      if (pending.has(key(write.side, write.id))) written.add(key(write.side, write.id));
    // A call is logged when it arrives and its body read later: one not answered yet is read again.
    const unanswered = (side: Side) => {
      const index = logs[side].findIndex((request, at) => at >= from(side) && request.status === 0);
      return index === -1 ? logs[side].length : index;
    };
    seen = { crm: unanswered('crm'), accounting: unanswered('accounting') };
    const before = pending.size;
    for (const id of written) {
      const change = pending.get(id);
      if (change && holds(rig, change)) {
        pending.delete(id);
        written.delete(id);
      }
    }
    if (pending.size < before) lastArrival = Date.now();
  }
  return { lastArrival, pending: pending.size };
}

/** API calls of a log, without the token endpoint's. */
export const apiCalls = (requests: readonly SandboxRequest[]) => requests.filter((request) => request.path !== 'token');

/**
 * Runs `measured` under the CPU profiler when BENCH_PROFILE names a directory, writing
 * `<name>.cpuprofile` there (open it in Chrome's DevTools): the measured phase alone, without its
 * setup. Without BENCH_PROFILE it only runs `measured`.
 */
export async function profiled<T>(name: string, measured: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_PROFILE;
  if (dir === undefined || dir === '') return measured();
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await measured();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
