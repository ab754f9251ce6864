/**
 * The first sync of N companies against N customers, none linked: a third match by VAT number, a
 * third by e-mail, a third by name and post code, and 5% of the records of each side are
 * ambiguous (pairs of companies sharing an e-mail with a pair of customers), left for review.
 * Measured: API calls against the fewest the page and batch sizes allow, wall time against the
 * floor the ceilings allow for those calls, the CPU time of the matching itself, and the peak
 * resident set of the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchKeys, planKeyedMatches, type MatchFields } from '../../src/core/match';
import { toBc, toHubSpot } from '../support/harness';
import { apiCalls, breakdown, ceilingFloorMs, peakRssMb, PROVIDERS, round, rssMb, startBenchRig } from './common';

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
  /** The process's: before the rig started, once seeded, the highest sampled in the run, and its peak. */
  rssMb: { beforeSeed: number; beforeRun: number; peakSampled: number; peakProcess: number };
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
  const beforeSeed = rssMb();
  // The store as the product keeps it by default (PGlite in a data directory, not in memory), and
  // request logs without bodies: the bench counts calls, and the sandboxes run in this process.
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  const rig = await startBenchRig({
    accountingWebhooks: false,
    pgliteDir: dataDir,
    hubspot: { logBodies: false },
    bc: { logBodies: false },
  });
  try {
    // Created while nothing listens: only the first sync finds them.
    rig.hubspot.setWebhookTarget(null);
    const records = Array.from({ length: size }, (_, index) => fieldsOf(index, size));
    for (const { company, customer } of records) {
      rig.hubspot.createCompany(toHubSpot(company));
      rig.bc.createCustomer(toBc(customer));
    }
    const ambiguousRecords = records.filter((_, index) => ambiguous(index) && index + 1 - (index % 40) < size).length;
    const expectedLinks = size - ambiguousRecords;

    const matching = matchingCpuMs(records, rig.config.matching.rules, rig.config.matching.minScore);
    rig.hubspot.resetRequests();
    rig.bc.clearRequestLog();

    const beforeRun = rssMb();
    let peakSampled = beforeRun;
    const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, rssMb())), 100);
    const startedAt = Date.now();
    const report = await rig.daemon.firstSync.runNow({ dryRun: false });
    const wallMs = Date.now() - startedAt;
    clearInterval(sampler);
    if (report === null) throw new Error('another first sync was running');

    const side = (slot: 'crm' | 'accounting') => {
      const calls = apiCalls(slot === 'crm' ? rig.hubspot.requests : rig.bc.requests);
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
      rssMb: { beforeSeed, beforeRun, peakSampled, peakProcess: peakRssMb() },
    };
  } finally {
    await rig.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
