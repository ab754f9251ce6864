/**
 * The first sync of N companies against N customers, none linked: a third match by VAT number, a
 * third by e-mail, a third by name and post code, and 5% of the records of each side are
 * ambiguous (pairs of companies sharing an e-mail with a pair of customers), left for review.
 * tandem runs as a user runs it, `tandem start` in a process of its own with the store as it
 * keeps it by default (PGlite in a data directory), and the first sync is started and followed
 * through the admin API. Measured: API calls against the fewest the page and batch sizes allow,
 * wall time against the floor the ceilings allow for those calls, the CPU time of the matching
 * itself, and tandem's resident set (its process's, without the sandboxes').
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBusinessCentralSandbox } from '../../connectors/business-central/sandbox';
import { startHubSpotSandbox } from '../../connectors/hubspot/sandbox';
import { parseConfigText } from '../../src/config/load';
import { matchKeys, planKeyedMatches, type MatchFields } from '../../src/core/match';
import { clearPrefix } from '../support/fakes';
import { toBc, toHubSpot } from '../support/harness';
import { apiCalls, breakdown, ceilingFloorMs, PROVIDERS, round } from './common';
import {
  BENCH_HUBSPOT_TOKEN,
  benchConfigText,
  benchSecrets,
  runFirstSync,
  startTandemProcess,
  type ProcessUsage,
} from './tandem-process';

export interface FirstSyncResult {
  size: number;
  /** Ambiguous records of both sides together, as the report counts them. */
  expected: { links: number; ambiguous: number };
  report: { link: number; ambiguous: number; linked: number; failed: number; requests: Record<string, number> };
  calls: Record<'crm' | 'accounting', { total: number; minimum: number; byKind: Record<string, number> }>;
  callsOverMinimum: number;
  wallMs: number;
  floorMs: number;
  wallOverFloor: number;
  matchingCpuMs: number;
  /** tandem's process: once started, the highest sampled in the run, and its peak (VmHWM). */
  rssMb: {
    beforeRun: number;
    peakSampled: number;
    peakProcess: number;
    /** The highest sampled while the run was in each phase it reported (reading, linking). */
    peakByPhase: Record<string, number>;
  };
  /** tandem's process: CPU time used by the run. */
  cpuMs: number;
}

/** Records i and i+1 of each side with i % 40 === 0 share one e-mail: 5% of each side. */
const ambiguous = (index: number) => index % 40 < 2;

/** The canonical fields of company i and of customer i. */
function fieldsOf(index: number, size: number): { company: Record<string, string>; customer: Record<string, string> } {
  if (ambiguous(index) && index + 1 - (index % 40) < size) {
    const email = `office@group${index - (index % 40)}.example`;
    return { company: { name: `Group ${index} Holding`, email }, customer: { name: `Group ${index} Trading`, email } };
  }
  const name = `Firm ${index} BV`;
  switch (index % 3) {
    case 0: {
      const vatRegistrationNo = `NL${String(100_000_000 + index)}B01`;
      return { company: { name, vatRegistrationNo }, customer: { name, vatRegistrationNo } };
    }
    case 1: {
      const email = `info@firm${index}.example`;
      return { company: { name, email }, customer: { name, email } };
    }
    default: {
      const postCode = `${1000 + (index % 9000)} AB`;
      return { company: { name, postCode }, customer: { name, postCode } };
    }
  }
}

/** The CPU time (user + system) of matching N x N by the key index, as the first sync matches. */
function matchingCpuMs(
  records: readonly { company: MatchFields; customer: MatchFields }[],
  rules: Parameters<typeof planKeyedMatches>[0]['rules'],
  minScore: number,
): { cpuMs: number; links: number; review: number } {
  const started = process.cpuUsage();
  const contacts = records.map((record, index) => ({ id: `c${index}`, keys: matchKeys(record.company) }));
  const accounts = records.map((record, index) => ({
    kind: 'customer' as const,
    id: `a${index}`,
    keys: matchKeys(record.customer),
  }));
  const plan = planKeyedMatches({ contacts, accounts, rules, minScore });
  const used = process.cpuUsage(started);
  return { cpuMs: round((used.user + used.system) / 1000), links: plan.pairs.length, review: plan.review.length };
}

export async function measureFirstSync(size: number): Promise<FirstSyncResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  const prefix = `bench${randomUUID().slice(0, 8)}`;
  // Request logs without bodies: the bench counts calls. No webhooks: only the first sync finds
  // the records.
  const hubspot = await startHubSpotSandbox({ token: BENCH_HUBSPOT_TOKEN, logBodies: false, log: () => undefined });
  const bc = await startBusinessCentralSandbox({ logBodies: false });
  let tandem: Awaited<ReturnType<typeof startTandemProcess>> | undefined;
  try {
    const records = Array.from({ length: size }, (_, index) => fieldsOf(index, size));
    for (const { company, customer } of records) {
      hubspot.createCompany(toHubSpot(company));
      bc.createCustomer(toBc(customer));
    }
    const ambiguousRecords = records.filter((_, index) => ambiguous(index) && index + 1 - (index % 40) < size).length;
    const expectedLinks = size - ambiguousRecords;

    const env = benchSecrets(bc);
    // No webhooks from accounting, and no poll during the run (a first poll lists every record,
    // which is not what is measured).
    const configOf = (port: number) => benchConfigText(hubspot, bc, prefix, port, { accountingWebhooks: false });
    const { matching: config } = parseConfigText(configOf(1), 'bench.json', env);
    const matching = matchingCpuMs(records, config.rules, config.minScore);

    tandem = await startTandemProcess({
      config: configOf,
      // The store as the product keeps it by default: PGlite in a data directory.
      env: { ...env, DATABASE_URL: '', TANDEM_DATA_DIR: join(dir, 'data') },
      dir,
      name: 'first-sync',
    });
    hubspot.resetRequests();
    bc.clearRequestLog();

    const before: ProcessUsage = tandem.usage();
    let peakSampled = before.rssMb;
    let current = 'starting';
    const peakByPhase: Record<string, number> = {};
    const sampler = setInterval(() => {
      const rss = tandem?.usage().rssMb ?? 0;
      peakSampled = Math.max(peakSampled, rss);
      peakByPhase[current] = Math.max(peakByPhase[current] ?? 0, rss);
    }, 100);
    const startedAt = Date.now();
    const report = await runFirstSync(tandem, (phase) => (current = phase));
    const wallMs = Date.now() - startedAt;
    clearInterval(sampler);
    const after = tandem.usage();

    const side = (slot: 'crm' | 'accounting') => {
      const calls = apiCalls(slot === 'crm' ? hubspot.requests : bc.requests);
      const { pageSize, readBatch } = PROVIDERS[slot];
      // Every record listed once, one page for each other (empty) account kind the run matches,
      // and the records of the pairs to link read once in batches.
      const otherKinds = slot === 'accounting' ? report.kinds.length - 1 : 0;
      const minimum = Math.ceil(size / pageSize) + otherKinds + Math.ceil(expectedLinks / readBatch);
      return { total: calls.length, minimum, byKind: breakdown(calls) };
    };
    const calls = { crm: side('crm'), accounting: side('accounting') };
    const floorMs = Math.max(
      ceilingFloorMs('crm', calls.crm.minimum),
      ceilingFloorMs('accounting', calls.accounting.minimum),
    );
    return {
      size,
      expected: { links: expectedLinks, ambiguous: 2 * ambiguousRecords },
      report: {
        link: report.counts.link,
        ambiguous: report.counts.ambiguous,
        linked: report.outcome.linked,
        failed: report.outcome.failed,
        requests: report.requests,
      },
      calls,
      callsOverMinimum: round(
        (calls.crm.total + calls.accounting.total) / (calls.crm.minimum + calls.accounting.minimum),
        3,
      ),
      wallMs,
      floorMs: Math.round(floorMs),
      wallOverFloor: floorMs > 0 ? round(wallMs / floorMs, 2) : Number.POSITIVE_INFINITY,
      matchingCpuMs: matching.cpuMs,
      rssMb: { beforeRun: before.rssMb, peakSampled, peakProcess: after.peakRssMb, peakByPhase },
      cpuMs: after.cpuMs - before.cpuMs,
    };
  } finally {
    await tandem?.stop();
    await Promise.all([hubspot.close(), bc.close()]);
    await clearPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}
