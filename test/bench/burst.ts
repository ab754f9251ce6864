/**
 * A burst on each side under the providers' real ceilings: N companies edited in the CRM and N
 * other customers edited in accounting at the same moment, with 100 ms API latency, the
 * sandboxes enforcing the published limits and tandem its default budget. Measured: the drain
 * time against the floor the ceilings and batch sizes allow, API calls per change on each side,
 * the share of calls answered 429, and afterwards (the steady state) writes that changed nothing
 * and writes sent back to the side a change came from.
 */
import {
  apiCalls,
  awaitArrivals,
  breakdown,
  ceilingFloorMs,
  linkPairs,
  movableClock,
  phoneOf,
  profiled,
  PROVIDERS,
  quiet,
  recordWrites,
  round,
  sleep,
  startBenchRig,
  type LinkedPair,
  type PendingChange,
} from './common';

export const BURST_LATENCY_MS = 100;
/** tandem's own budget counts the setup's calls in its windows: HubSpot's is 10 s, so wait it out. */
const BUDGET_WINDOW_WAIT_MS = 11_000;
/** How long the steady state is watched after the burst has drained. */
const STEADY_WATCH_MS = 3_000;

export interface BurstResult {
  perSide: number;
  latencyMs: number;
  setupMs: number;
  arrived: number;
  missing: number;
  drainMs: number;
  settledMs: number;
  floor: { calls: Record<'crm' | 'accounting', number>; ms: number };
  drainOverFloor: number;
  calls: Record<
    'crm' | 'accounting',
    { total: number; perChange: number; status429: number; byKind: Record<string, number> }
  >;
  share429: number;
  steady: { noOpWrites: number; echoWrites: number; writesWhileQuiet: number; neededWrites: number };
}

/**
 * The fewest calls N changes on each side need, per side: the changed records read in batches,
 * the other side's records read in batches, and the writes in batches.
 */
function floorCalls(perSide: number): Record<'crm' | 'accounting', number> {
  const { crm, accounting } = PROVIDERS;
  const batches = (size: number) => Math.ceil(perSide / size);
  return {
    crm: 2 * batches(crm.readBatch) + batches(crm.writeBatch),
    accounting: 2 * batches(accounting.readBatch) + batches(accounting.writeBatch),
  };
}

export async function measureBurst(perSide: number): Promise<BurstResult> {
  const crmClock = movableClock();
  const accountingClock = movableClock();
  const rig = await startBenchRig({ hubspot: { now: crmClock.now }, bc: { now: accountingClock.now } });
  try {
    const setupStartedAt = Date.now();
    const pairs = await linkPairs(rig, 2 * perSide);
    const setupMs = Date.now() - setupStartedAt;
    const fromCrm = pairs.slice(0, perSide);
    const fromAccounting = pairs.slice(perSide);
    await sleep(BUDGET_WINDOW_WAIT_MS);
    crmClock.refill();
    accountingClock.refill();
    rig.hubspot.setLatency(BURST_LATENCY_MS);
    rig.bc.setLatency(BURST_LATENCY_MS);
    rig.hubspot.resetRequests();
    rig.bc.clearRequestLog();

    const floor = floorCalls(perSide);
    const floorMs =
      Math.max(ceilingFloorMs('crm', floor.crm), ceilingFloorMs('accounting', floor.accounting)) +
      // At the least a read on each side and a write, one after the other.
      3 * BURST_LATENCY_MS;
    const startedAt = Date.now();
    const pending: PendingChange[] = [];
    for (const [index, pair] of fromCrm.entries()) {
      const phone = phoneOf(index, 1);
      rig.hubspot.updateCompany(pair.hubspotId, { phone });
      pending.push({ side: 'accounting', id: pair.customerId, expected: phone });
    }
    for (const [index, pair] of fromAccounting.entries()) {
      const phone = phoneOf(perSide + index, 1);
      rig.bc.updateCustomer(pair.customerId, { phoneNumber: phone });
      pending.push({ side: 'crm', id: pair.hubspotId, expected: phone });
    }
    const deadline = startedAt + Math.max(240_000, 10 * floorMs);
    const { lastArrival, pending: missing } = await profiled('burst', () =>
      awaitArrivals(rig, pending, startedAt, deadline),
    );
    const drainMs = Math.max(1, lastArrival - startedAt);
    await quiet(rig, 300_000);
    const settledMs = Date.now() - startedAt;
    const writesBeforeWatch = recordWrites(rig.hubspot.requests, rig.bc.requests).length;
    await sleep(STEADY_WATCH_MS);
    await quiet(rig, 120_000);

    const crmCalls = apiCalls(rig.hubspot.requests);
    const accountingCalls = apiCalls(rig.bc.requests);
    const changes = 2 * perSide;
    const side = (calls: typeof crmCalls) => ({
      total: calls.length,
      perChange: round(calls.length / changes, 3),
      status429: calls.filter((call) => call.status === 429).length,
      byKind: breakdown(calls),
    });
    const writes = recordWrites(rig.hubspot.requests, rig.bc.requests);
    return {
      perSide,
      latencyMs: BURST_LATENCY_MS,
      setupMs,
      arrived: changes - missing,
      missing,
      drainMs,
      settledMs,
      floor: { calls: floor, ms: Math.round(floorMs) },
      drainOverFloor: round(drainMs / floorMs, 2),
      calls: { crm: side(crmCalls), accounting: side(accountingCalls) },
      share429: round(
        (crmCalls.filter((call) => call.status === 429).length +
          accountingCalls.filter((call) => call.status === 429).length) /
          Math.max(1, crmCalls.length + accountingCalls.length),
        4,
      ),
      steady: {
        ...classifyWrites(writes, fromCrm, fromAccounting),
        writesWhileQuiet: writes.length - writesBeforeWatch,
      },
    };
  } finally {
    await rig.stop();
  }
}

/**
 * Sorts the writes of the burst and its aftermath: one write per changed record to the other side
 * is needed; a write back to the record the change came from is an echo write; any further write
 * (a second one of the same record, or of a record nobody changed) wrote what was there already.
 */
function classifyWrites(
  writes: ReturnType<typeof recordWrites>,
  fromCrm: readonly LinkedPair[],
  fromAccounting: readonly LinkedPair[],
): { noOpWrites: number; echoWrites: number; neededWrites: number } {
  const origins = new Set([
    ...fromCrm.map((pair) => `crm:${pair.hubspotId}`),
    ...fromAccounting.map((pair) => `accounting:${pair.customerId}`),
  ]);
  const targets = new Set([
    ...fromCrm.map((pair) => `accounting:${pair.customerId}`),
    ...fromAccounting.map((pair) => `crm:${pair.hubspotId}`),
  ]);
  const written = new Set<string>();
  let echoWrites = 0;
  let noOpWrites = 0;
  let neededWrites = 0;
  for (const write of writes) {
    const key = `${write.side}:${write.id}`;
    if (origins.has(key)) echoWrites++;
    else if (targets.has(key) && !written.has(key)) neededWrites++;
    else noOpWrites++;
    written.add(key);
  }
  return { noOpWrites, echoWrites, neededWrites };
}
