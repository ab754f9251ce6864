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
import { z } from 'zod';
import { startBusinessCentralSandbox, type BusinessCentralSandbox } from '../../connectors/business-central/sandbox';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox';
import { parseConfigText } from '../../src/config/load';
import { matchKeys, planKeyedMatches, type MatchFields } from '../../src/core/match';
import { firstSyncReportSchema, firstSyncStartSchema, firstSyncStatusSchema } from '../../src/http/api/schemas';
import { clearPrefix } from '../support/fakes';
import { sandboxConnectors, toBc, toHubSpot } from '../support/harness';
import { apiCalls, breakdown, ceilingFloorMs, PROVIDERS, round } from './common';
import { startTandemProcess, type ProcessUsage } from './tandem-process';

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

const HUBSPOT_TOKEN = 'bench-hubspot-token';
const HUBSPOT_SECRET = 'bench-hubspot-secret';
const BC_STATE = 'bench-client-state';
/** How often the bench asks how far the first sync is. */
const STATUS_EVERY_MS = 500;

/** A config value read from the environment (secrets may only be written so). */
const fromEnv = (name: string) => ['${', name, '}'].join('');

/**
 * The config tandem runs the first sync with: the product's defaults but for the two sandboxes,
 * the mappings of the test rig, no webhooks from accounting, and no poll or drift sweep during
 * the run (a first poll lists every record, which is not what is measured).
 */
function configText(hubspot: HubSpotSandbox, bc: BusinessCentralSandbox, prefix: string, port: number): string {
  const customer = ['name', 'address', 'city', 'postCode', 'countryCode', 'phone', 'email', 'homePage'];
  const pairs = (fields: string[]) => fields.map((field) => ({ contact: field, account: field }));
  const connectors = sandboxConnectors(hubspot, bc, {
    hubspotToken: fromEnv('BENCH_HUBSPOT_TOKEN'),
    hubspotSecret: fromEnv('BENCH_HUBSPOT_SECRET'),
    bcClientSecret: fromEnv('BENCH_BC_CLIENT_SECRET'),
    bcClientState: fromEnv('BENCH_BC_CLIENT_STATE'),
  });
  return JSON.stringify(
    {
      connectors: {
        crm: { ...connectors.crm, pollEvery: '24h' },
        accounting: { ...connectors.accounting, pollEvery: '24h', webhooks: false },
      },
      relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: 'BANK' },
      mappings: {
        customer: pairs([...customer, 'vatRegistrationNo']),
        vendor: pairs(customer),
        bankAccount: pairs(['name']),
      },
      drift: { every: null },
      queue: { prefix },
      server: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` },
    },
    null,
    2,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureFirstSync(size: number): Promise<FirstSyncResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  const prefix = `bench${randomUUID().slice(0, 8)}`;
  // Request logs without bodies: the bench counts calls. No webhooks: only the first sync finds
  // the records.
  const hubspot = await startHubSpotSandbox({ token: HUBSPOT_TOKEN, logBodies: false, log: () => undefined });
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

    const env = {
      BENCH_HUBSPOT_TOKEN: HUBSPOT_TOKEN,
      BENCH_HUBSPOT_SECRET: HUBSPOT_SECRET,
      BENCH_BC_CLIENT_SECRET: bc.clientSecret,
      BENCH_BC_CLIENT_STATE: BC_STATE,
    };
    const { matching: config } = parseConfigText(configText(hubspot, bc, prefix, 1), 'bench.json', env);
    const matching = matchingCpuMs(records, config.rules, config.minScore);

    tandem = await startTandemProcess({
      config: (port) => configText(hubspot, bc, prefix, port),
      // The store as the product keeps it by default: PGlite in a data directory.
      env: { ...env, DATABASE_URL: '', TANDEM_DATA_DIR: join(dir, 'data') },
      dir,
    });
    hubspot.resetRequests();
    bc.clearRequestLog();

    const before: ProcessUsage = tandem.usage();
    let peakSampled = before.rssMb;
    let phase = 'starting';
    const peakByPhase: Record<string, number> = {};
    const sampler = setInterval(() => {
      const rss = tandem?.usage().rssMb ?? 0;
      peakSampled = Math.max(peakSampled, rss);
      peakByPhase[phase] = Math.max(peakByPhase[phase] ?? 0, rss);
    }, 100);
    const startedAt = Date.now();
    const started = await tandem.api('POST', '/api/first-sync', { dryRun: false });
    if (started.status !== 202) throw new Error(`the first sync did not start: ${JSON.stringify(started.body)}`);
    firstSyncStartSchema.parse(started.body);
    let report: z.output<typeof firstSyncReportSchema> | null = null;
    while (report === null) {
      await sleep(STATUS_EVERY_MS);
      const status = firstSyncStatusSchema.parse((await tandem.api('GET', '/api/first-sync')).body);
      phase = status.running?.phase ?? 'finishing';
      // Done when nothing runs and the last report is of this run (finished after it was started).
      if (status.running === null && status.last !== null && Date.parse(status.last.finishedAt) >= startedAt)
        report = status.last;
    }
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
