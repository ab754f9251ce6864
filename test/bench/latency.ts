/**
 * The latency of one change in a quiet system, with 100 ms API latency and the published limits:
 * from the moment the CRM's webhook reaches tandem to the moment the accounting system has taken
 * the write. Changes are made one at a time, each after the previous one and its echo have
 * settled, so that none waits behind another.
 */
import { linkPairs, percentile, phoneOf, quiet, sleep, startBenchRig } from './common';

export const LATENCY_API_MS = 100;
const POLL_EVERY_MS = 2;
const ARRIVAL_TIMEOUT_MS = 30_000;

export interface LatencyResult {
  changes: number;
  arrived: number;
  apiLatencyMs: number;
  /** Webhook received to write confirmed, sorted. */
  latenciesMs: number[];
  p50: number;
  p99: number;
  max: number;
}

/**
 * Records when the CRM sandbox posts a webhook to `url`: the sandbox delivers with the global
 * fetch, over loopback, so the call's start is when tandem receives it (to well under 1 ms).
 */
function watchWebhooks(url: string): { since(at: number): number | undefined; restore(): void } {
  const original = globalThis.fetch;
  const sent: number[] = [];
  globalThis.fetch = (input, init) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (target === url) sent.push(performance.timeOrigin + performance.now());
    return original(input, init);
  };
  return {
    since: (at) => sent.find((time) => time >= at),
    restore: () => {
      globalThis.fetch = original;
    },
  };
}

export async function measureLatency(changes: number): Promise<LatencyResult> {
  const rig = await startBenchRig();
  const webhooks = watchWebhooks(rig.webhookUrl);
  try {
    const [pair] = await linkPairs(rig, 1);
    if (!pair) throw new Error('no pair was linked');
    rig.hubspot.setLatency(LATENCY_API_MS);
    rig.bc.setLatency(LATENCY_API_MS);
    const latenciesMs: number[] = [];
    for (let edit = 1; edit <= changes; edit++) {
      const phone = phoneOf(0, edit % 80);
      const editedAt = performance.timeOrigin + performance.now();
      rig.hubspot.updateCompany(pair.hubspotId, { phone });
      const deadline = Date.now() + ARRIVAL_TIMEOUT_MS;
      while (rig.bc.getCustomer(pair.customerId)?.phoneNumber !== phone && Date.now() < deadline)
        await sleep(POLL_EVERY_MS);
      const confirmedAt = performance.timeOrigin + performance.now();
      const receivedAt = webhooks.since(editedAt);
      if (receivedAt !== undefined && rig.bc.getCustomer(pair.customerId)?.phoneNumber === phone)
        latenciesMs.push(Math.round(confirmedAt - receivedAt));
      await quiet(rig);
    }
    latenciesMs.sort((a, b) => a - b);
    return {
      changes,
      arrived: latenciesMs.length,
      apiLatencyMs: LATENCY_API_MS,
      latenciesMs,
      p50: percentile(latenciesMs, 50),
      p99: percentile(latenciesMs, 99),
      max: latenciesMs.at(-1) ?? Number.NaN,
    };
  } finally {
    webhooks.restore();
    await rig.stop();
  }
}
