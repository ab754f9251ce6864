/**
 * The chaos run: tandem as separate OS processes (`tandem start`, the built CLI: one of role all,
 * or an api, two workers and a scheduler) against both
 * sandboxes (in this process), its own Redis with append-only persistence, and a fresh
 * PostgreSQL database. Linked companies (a third also vendors) get random phone and city edits on
 * every side, never two edits of one company closer than 0.8 s; meanwhile tandem is killed with
 * SIGKILL every 5-8 s and restarted, Redis is killed with SIGKILL and restarted once, a share of
 * the sandboxes' API calls answer 5xx or never answer, bursts of 429 come with Retry-After, webhooks
 * are dropped, duplicated and delivered out of order, and the two systems' clocks disagree by up
 * to five minutes. Then the faults stop, tandem settles and a drift sweep
 * runs, and the oracle, which knows every edit, checks that each field holds the newest edit on
 * every side, that no record was duplicated, and counts the writes beyond what the edits needed.
 *
 * Everything listens on loopback, runs for a bounded time and stops by itself; only processes this
 * run started are ended, by their pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startBusinessCentralSandbox, type BusinessCentralSandbox } from '../../connectors/business-central/sandbox';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox';
import { freePort, waitFor } from '../../src/util/net';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';

/** What a run is asked to do. */
export interface ChaosOptions {
  seed: number;
  /** How long edits and faults go on. */
  seconds: number;
  companies: number;
  /** Share of API calls answered 5xx while faults go on. */
  failureRate: number;
  /** Share of API calls carried out whose answer never arrives (the connection is cut after 1.5 s); default 0.02. */
  timeoutRate?: number;
  /**
   * How far apart the two systems' clocks may be, in seconds (default 300): each sandbox's clock is
   * off by a seeded amount within half of it, ahead or behind.
   */
  skewSeconds?: number;
  /** Share of webhook deliveries made twice; every delivery is up to 1.5 s late, so they overtake each other (default 0.1). */
  webhookDuplicateRate?: number;
  /** Bursts of 429s with Retry-After, and windows in which the CRM's webhooks are dropped, per minute. */
  burstsPerMinute?: number;
  /**
   * `all`: one tandem process of role all, killed and restarted. `split`: an api process, two
   * workers and a scheduler; a worker or the scheduler, at random, is killed and restarted.
   */
  topology?: 'all' | 'split';
  /**
   * PostgreSQL server to create the run's database on when `postgresRestart` is false. Otherwise
   * the run starts a private server of its own (test/support/private-postgres.ts), the only kind
   * it may restart.
   */
  databaseUrl: string;
  /** Restart PostgreSQL once while faults go on (default true). */
  postgresRestart?: boolean;
  /** Where `tandem start` is (the built CLI). */
  cliPath: string;
  log?: (line: string) => void;
}

/** What the oracle found. */
export interface ChaosReport {
  seed: number;
  seconds: number;
  topology: 'all' | 'split';
  edits: number;
  tandemKills: number;
  redisKills: number;
  postgresRestarts: number;
  /** How far each system's clock was off (ms, + ahead). */
  clockOffsets: { crm: number; accounting: number };
  /** Calls answered by a cut connection instead. */
  timeouts: number;
  /**
   * Fields whose sides do not all hold the newest edit, and whose newest edit no conflict row
   * names either: lost edits.
   */
  lost: Array<{
    company: number;
    field: Field;
    expected: string[];
    found: Record<string, string | null>;
    /** The field's last edits (side, value, ms after the run's start) and its audit rows, to see what happened. */
    history?: string[];
    /** The writes to the company's records that carried the field (method, side, value, ms after the run's start, status). */
    calls?: string[];
    audit?: unknown[];
  }>;
  /**
   * Fields where an older edit won a conflict that was recorded as such (reason `uncertain`: the
   * systems' record times could not tell the order apart), with the newer value in the conflict
   * row, restorable from the console. Not lost, but not the newest either.
   */
  recordedAgainstNewest: ChaosReport['lost'];
  /**
   * Values tandem wrote over a newer edit without a conflict row naming the newer one: the stale
   * writes fencing is there to prevent.
   */
  silentOverwrites: Array<{
    field: string;
    replaced: string;
    by: string;
    row?: unknown;
    /** As for a lost edit: the field's edits around the overwrite, the writes that carried it, its audit rows. */
    history?: string[];
    calls?: string[];
    audit?: unknown[];
  }>;
  /** Records more than there were (duplicates) per side. */
  duplicates: { crm: number; customers: number; vendors: number };
  converged: boolean;
  /** Conflict rows in the audit log, and writes made per edit (1 per other side is the least). */
  conflicts: number;
  writes: { crm: number; accounting: number; needed: number; perNeeded: number };
  settleSeconds: number;
}

type Field = 'phone' | 'city';
type Side = 'crm' | 'customer' | 'vendor';
const FIELDS: readonly Field[] = ['phone', 'city'];
const BC_FIELD: Record<Field, string> = { phone: 'phoneNumber', city: 'city' };
const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
const WEBHOOK_SECRET = 'chaos-hubspot-secret';
const CLIENT_STATE = 'chaos-client-state';

/** A small seeded generator (mulberry32), so a run's edits and faults can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Company {
  index: number;
  hubspotId: string;
  customerId: string;
  vendorId?: string;
  /** No edit of this company before this time. */
  nextEditAt: number;
}

interface Edit {
  company: number;
  field: Field;
  side: Side;
  value: string;
  at: number;
}

/** A child process this run started, ended only by its pid. */
class Child {
  private process: ChildProcess | undefined;
  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  start(): void {
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = (chunk: Buffer) => writeFileSync(this.logFile, chunk, { flag: 'a' });
    child.stdout?.on('data', log);
    child.stderr?.on('data', log);
    this.process = child;
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await gone;
  }

  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => void this.kill(), graceMs);
    await gone;
    clearTimeout(timer);
    this.process = undefined;
  }
}

/** Runs the scenario and returns what the oracle found. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const rnd = random(options.seed);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-chaos-'));
  const database = `tandem_chaos_${options.seed}_${Date.now().toString(36)}`;
  const postgres: PrivatePostgres | undefined =
    options.postgresRestart === false ? undefined : await startPrivatePostgres();
  const admin = new Client({ connectionString: postgres?.url ?? options.databaseUrl });
  // A restart ends this session; the database is dropped with the private server.
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(postgres?.url ?? options.databaseUrl);
  databaseUrl.pathname = `/${database}`;

  const redisPort = await freePort();
  const redis = new Child(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--dir',
      dir,
    ],
    process.env,
    join(dir, 'redis.log'),
  );
  const tandemPort = await freePort();
  const tandemUrl = `http://127.0.0.1:${tandemPort}`;
  const webhookTarget = { targetUrl: `${tandemUrl}/webhooks/crm`, clientSecret: WEBHOOK_SECRET, batchDelayMs: 50 };
  let hubspot: HubSpotSandbox | undefined;
  let bc: BusinessCentralSandbox | undefined;
  const processes: Child[] = [];
  let failed = true;
  // Stopped from outside (Ctrl-C, a timeout's SIGTERM), the run still ends what it started.
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: ending what this run started; logs kept in ${dir}`);
    void Promise.all([...processes, redis].map((child) => child.kill()))
      .then(() => Promise.all([hubspot?.close(), bc?.close(), postgres?.close()]))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    redis.start();
    await waitForPort(redisPort);
    const skewMs = (options.skewSeconds ?? 300) * 1000;
    const clockOffsets = {
      crm: Math.round((rnd() - 0.5) * skewMs),
      accounting: Math.round((rnd() - 0.5) * skewMs),
    };
    hubspot = await startHubSpotSandbox({
      token: 'chaos-token',
      webhook: webhookTarget,
      log: () => undefined,
      clockOffsetMs: clockOffsets.crm,
    });
    bc = await startBusinessCentralSandbox({ notificationDelayMs: 100, clockOffsetMs: clockOffsets.accounting });
    const configFile = join(dir, 'tandem.yaml');
    writeFileSync(configFile, config(hubspot, bc, tandemPort));
    const roles = options.topology === 'split' ? ['api', 'worker', 'worker', 'scheduler'] : ['all'];
    for (const [index, role] of roles.entries()) {
      processes.push(
        new Child(
          process.execPath,
          [options.cliPath, 'start', '--role', role],
          {
            ...process.env,
            TANDEM_CONFIG: configFile,
            REDIS_URL: `redis://127.0.0.1:${redisPort}`,
            DATABASE_URL: databaseUrl.toString(),
            TANDEM_ADMIN_TOKENS: ADMIN_TOKEN,
            // Secrets reach the config from the environment only.
            CHAOS_HUBSPOT_TOKEN: 'chaos-token',
            CHAOS_HUBSPOT_SECRET: WEBHOOK_SECRET,
            CHAOS_BC_CLIENT_SECRET: bc.clientSecret,
            CHAOS_BC_CLIENT_STATE: CLIENT_STATE,
            LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
          },
          join(dir, `tandem-${index}-${role}.log`),
        ),
      );
    }
    // What gets killed: the one process, or (split) the workers and the scheduler; the api stays.
    const killable = processes.length === 1 ? processes : processes.slice(1);
    processes.forEach((child) => child.start());
    await waitForTandem(tandemUrl);

    const companies = await linkCompanies(hubspot, bc, tandemUrl, options.companies, rnd);
    log(`linked ${companies.length} companies; chaos for ${options.seconds} s (seed ${options.seed})`);
    const counts = { crm: hubspot.requests.length, bc: bc.requests.length };

    const edits: Edit[] = [];
    let tandemKills = 0;
    let redisKills = 0;
    let postgresRestarts = 0;
    const endAt = Date.now() + options.seconds * 1000;
    let nextKillAt = Date.now() + 5000 + rnd() * 3000;
    const redisKillAt = Date.now() + options.seconds * 1000 * (0.3 + rnd() * 0.3);
    const postgresRestartAt = Date.now() + options.seconds * 1000 * (0.65 + rnd() * 0.2);
    let serial = 0;
    let webhooksDroppedUntil = 0;
    let droppedWindows = 0;
    let timeouts = 0;
    const timeoutRate = options.timeoutRate ?? 0.02;
    // Deliveries late by up to 1.5 s overtake each other; some come twice.
    const disorder = { duplicateRate: options.webhookDuplicateRate ?? 0.1, maxDelayMs: 1500 };
    hubspot.disorderWebhooks(disorder);
    bc.disorderNotifications(disorder);
    while (Date.now() < endAt) {
      const now = Date.now();
      // Faults: shares of the calls since the last tick, answered 5xx or not at all by each sandbox.
      const crmCalls = hubspot.requests.length;
      const bcCalls = bc.requests.length;
      const crmTimeouts = poisson(rnd, (crmCalls - counts.crm) * timeoutRate);
      const bcTimeouts = poisson(rnd, (bcCalls - counts.bc) * timeoutRate);
      timeouts += crmTimeouts + bcTimeouts;
      hubspot.injectFailures({
        next5xx: poisson(rnd, (crmCalls - counts.crm) * options.failureRate),
        nextTimeouts: crmTimeouts,
        timeoutAfterMs: 1500,
      });
      bc.injectFailures({
        next5xx: poisson(rnd, (bcCalls - counts.bc) * options.failureRate),
        nextTimeouts: bcTimeouts,
        timeoutAfterMs: 1500,
      });
      counts.crm = crmCalls;
      counts.bc = bcCalls;
      const bursts = (options.burstsPerMinute ?? 4) / 600;
      if (rnd() < bursts)
        (rnd() < 0.5 ? hubspot : bc).injectFailures({ next429: 2 + Math.floor(rnd() * 4), retryAfterSeconds: 1 });
      // Webhooks sent while the target is unset are lost, as a provider's failed delivery would be.
      if (webhooksDroppedUntil === 0 && rnd() < bursts) {
        hubspot.setWebhookTarget(null);
        webhooksDroppedUntil = now + 1000 + rnd() * 2000;
      } else if (webhooksDroppedUntil > 0 && now >= webhooksDroppedUntil) {
        hubspot.setWebhookTarget(webhookTarget);
        webhooksDroppedUntil = 0;
        droppedWindows++;
      }

      for (const company of companies) {
        if (company.nextEditAt > now || rnd() > 0.3) continue;
        const sides: Side[] = company.vendorId ? ['crm', 'customer', 'vendor'] : ['crm', 'customer'];
        const side = sides[Math.floor(rnd() * sides.length)] as Side;
        const field = FIELDS[Math.floor(rnd() * FIELDS.length)] as Field;
        const value = field === 'phone' ? `+31 20 ${String(100_000 + ++serial).padStart(6, '0')}` : `City ${++serial}`;
        applyEdit(hubspot, bc, company, side, field, value);
        edits.push({ company: company.index, field, side, value, at: now });
        company.nextEditAt = now + 800 + rnd() * 1700;
      }
      if (now >= nextKillAt) {
        const victim = killable[Math.floor(rnd() * killable.length)] as Child;
        await victim.kill();
        tandemKills++;
        await sleep(200 + rnd() * 800);
        victim.start();
        nextKillAt = Date.now() + 5000 + rnd() * 3000;
      }
      if (postgres && postgresRestarts === 0 && now >= postgresRestartAt) {
        // As a crash would: sessions cut, then 1-3 s without a server, then WAL recovery. The
        // runner's own session goes with it.
        await postgres.stop('immediate');
        postgresRestarts++;
        await sleep(1000 + rnd() * 2000);
        await postgres.start();
      }
      if (redisKills === 0 && now >= redisKillAt) {
        await redis.kill();
        redisKills++;
        await sleep(300 + rnd() * 700);
        redis.start();
        await waitForPort(redisPort);
      }
      await sleep(100);
    }
    log(
      `${edits.length} edits, ${tandemKills} tandem kills, ${redisKills} Redis kill, ${postgresRestarts} PostgreSQL restart; settling`,
    );

    // Faults off; tandem runs on until its queues are empty, then a drift sweep repairs what was lost.
    hubspot.injectFailures({ next5xx: 0, next429: 0, nextTimeouts: 0 });
    bc.injectFailures({ next5xx: 0, next429: 0, nextTimeouts: 0 });
    hubspot.disorderWebhooks({});
    bc.disorderNotifications({});
    hubspot.setWebhookTarget(webhookTarget);
    log(`${droppedWindows} windows of dropped webhooks`);
    const settleStarted = Date.now();
    await waitForTandem(tandemUrl);
    await settle(tandemUrl);
    await runDrift(tandemUrl);
    await settle(tandemUrl);
    const settleSeconds = Math.round((Date.now() - settleStarted) / 100) / 10;

    const judged = judge(options, hubspot, bc, companies, edits);
    const { conflicts, silentOverwrites, recorded } = await auditedOverwrites(tandemUrl, edits);
    const isRecorded = (entry: ChaosReport['lost'][number]) => entry.expected.some((value) => recorded.has(value));
    const report = {
      ...judged,
      lost: judged.lost.filter((entry) => !isRecorded(entry)),
      recordedAgainstNewest: judged.lost.filter(isRecorded),
    };
    const runStartedAt = edits[0]?.at ?? 0;
    for (const entry of [...report.lost, ...report.recordedAgainstNewest]) {
      const company = companies[entry.company];
      entry.history = edits
        .filter((edit) => edit.company === entry.company && edit.field === entry.field)
        .slice(-4)
        .map((edit) => `${edit.side} ${edit.value} @${edit.at - runStartedAt}`);
      entry.calls = company ? fieldCalls(hubspot, bc, company, entry.field, runStartedAt) : [];
      const rows = company
        ? ((await api(tandemUrl, 'GET', `/api/audit?contactId=company-${company.hubspotId}&limit=1000`)) as Array<{
            field: string | null;
          }>)
        : [];
      entry.audit = rows.filter((row) => row.field === entry.field || row.field === null).slice(-12);
    }
    for (const entry of silentOverwrites) {
      const edit = edits.find((each) => each.value === entry.replaced);
      const company = edit && companies[edit.company];
      if (!edit || !company) continue;
      entry.history = edits
        .filter((each) => each.company === edit.company && each.field === edit.field)
        .filter((each) => Math.abs(each.at - edit.at) < 10_000)
        .map((each) => `${each.side} ${each.value} @${each.at - runStartedAt}`);
      entry.calls = fieldCalls(hubspot, bc, company, edit.field, runStartedAt, { around: edit.at });
      const rows = (await api(
        tandemUrl,
        'GET',
        `/api/audit?contactId=company-${company.hubspotId}&limit=1000`,
      )) as Array<{
        field: string | null;
      }>;
      entry.audit = rows.filter((row) => row.field === edit.field || row.field === null).slice(-20);
    }
    const writes = {
      crm: hubspot.requests.filter((call) => call.method === 'PATCH' || call.path.includes('batch/update')).length,
      accounting: bc.requests.filter((call) => call.method === 'PATCH').length,
      needed: edits.reduce((sum, edit) => sum + (companies[edit.company]?.vendorId ? 2 : 1), 0),
      perNeeded: 0,
    };
    writes.perNeeded = Math.round(((writes.crm + writes.accounting) / Math.max(1, writes.needed)) * 100) / 100;
    // A run that lost something keeps its logs too.
    failed = report.lost.length > 0 || silentOverwrites.length > 0;
    return {
      ...report,
      tandemKills,
      redisKills,
      postgresRestarts,
      clockOffsets,
      timeouts,
      conflicts,
      silentOverwrites,
      writes,
      settleSeconds,
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await Promise.all(processes.map((child) => child.stop()));
    await redis.stop();
    await Promise.all([hubspot?.close(), bc?.close()]);
    if (postgres) {
      await admin.end().catch(() => undefined);
      await postgres.close();
    } else {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
    // A failed run keeps its logs (tandem-*.log, redis.log) for a look.
    if (failed) log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** A config value read from the environment (secrets may only be written so). */
const fromEnv = (name: string) => ['${', name, '}'].join('');

function config(hubspot: HubSpotSandbox, bc: BusinessCentralSandbox, port: number): string {
  const fields = ['name', 'phone', 'city'];
  // A value map and sync filters take part as a user's would: every chaos record matches, and
  // trimming leaves the edits' values as they are, so the checks below stay exact.
  const mapping = fields
    .map((field) => `    - { contact: ${field}, account: ${field}${field === 'city' ? ', transform: trim' : ''} }`)
    .join('\n');
  const filter = `    contact: [{ field: name, empty: false }]\n    account: [{ field: custom.blocked, empty: true }]`;
  return `connectors:
  crm:
    kind: hubspot
    baseUrl: ${hubspot.url}
    credentials:
      token: ${fromEnv('CHAOS_HUBSPOT_TOKEN')}
      webhookSecret: ${fromEnv('CHAOS_HUBSPOT_SECRET')}
    pollEvery: 5s
  accounting:
    kind: business-central
    baseUrl: ${bc.url}
    companyId: ${bc.companyId}
    credentials:
      tokenUrl: ${bc.tokenUrl}
      clientId: ${bc.clientId}
      clientSecret: ${fromEnv('CHAOS_BC_CLIENT_SECRET')}
      webhookClientState: ${fromEnv('CHAOS_BC_CLIENT_STATE')}
    pollEvery: 5s
relationCodes: { customer: CUST, vendor: VEND, bankAccount: null }
mappings:
  customer:
${mapping}
  vendor:
${mapping}
filters:
  customer:
${filter}
  vendor:
${filter}
queue: { prefix: chaos, backoff: 200ms, attempts: 8, shutdownGrace: 5s }
drift: { every: null }
server: { host: 127.0.0.1, port: ${port}, publicUrl: http://127.0.0.1:${port} }
`;
}

async function linkCompanies(
  hubspot: HubSpotSandbox,
  bc: BusinessCentralSandbox,
  tandemUrl: string,
  count: number,
  rnd: () => number,
): Promise<Company[]> {
  const companies: Company[] = [];
  for (let index = 0; index < count; index++) {
    const name = `Chaos ${index} BV`;
    const company = hubspot.createCompany({ name, phone: '+31 20 000 0000', city: 'Amsterdam' });
    const customer = bc.createCustomer({ displayName: name, phoneNumber: '+31 20 000 0000', city: 'Amsterdam' });
    const vendor =
      rnd() < 1 / 3
        ? bc.createVendor({ displayName: name, phoneNumber: '+31 20 000 0000', city: 'Amsterdam' })
        : undefined;
    const entry: Company = { index, hubspotId: company.id, customerId: String(customer.id), nextEditAt: 0 };
    if (vendor) entry.vendorId = String(vendor.id);
    for (const [kind, accountId] of [
      ['customer', entry.customerId],
      ...(entry.vendorId ? [['vendor', entry.vendorId]] : []),
    ]) {
      await api(tandemUrl, 'POST', '/api/relations', {
        contactId: `company-${company.id}`,
        accountKind: kind,
        accountId,
      });
    }
    companies.push(entry);
  }
  return companies;
}

function applyEdit(
  hubspot: HubSpotSandbox,
  bc: BusinessCentralSandbox,
  company: Company,
  side: Side,
  field: Field,
  value: string,
) {
  if (side === 'crm') hubspot.updateCompany(company.hubspotId, { [field]: value });
  else if (side === 'customer') bc.updateCustomer(company.customerId, { [BC_FIELD[field]]: value });
  else if (company.vendorId) bc.updateVendor(company.vendorId, { [BC_FIELD[field]]: value });
}

/** The oracle: each field holds, on every side, the newest edit (either of the last two where they were under 1 s apart). */
function judge(
  options: ChaosOptions,
  hubspot: HubSpotSandbox,
  bc: BusinessCentralSandbox,
  companies: Company[],
  edits: Edit[],
) {
  const lost: ChaosReport['lost'] = [];
  for (const company of companies) {
    for (const field of FIELDS) {
      const history = edits.filter((edit) => edit.company === company.index && edit.field === field);
      const last = history.at(-1);
      const before = history.at(-2);
      const expected = last === undefined ? [field === 'phone' ? '+31 20 000 0000' : 'Amsterdam'] : [last.value];
      if (last && before && last.at - before.at < 1000) expected.push(before.value);
      const found: Record<string, string | null> = {
        crm: hubspot.getCompany(company.hubspotId)?.properties[field] ?? null,
        customer: stringOrNull(bc.getCustomer(company.customerId)?.[BC_FIELD[field]]),
      };
      if (company.vendorId) found.vendor = stringOrNull(bc.getVendor(company.vendorId)?.[BC_FIELD[field]]);
      const values = Object.values(found);
      const agreed = values.every((value) => value === values[0]);
      if (!agreed || !expected.includes(values[0] ?? '')) lost.push({ company: company.index, field, expected, found });
    }
  }
  // tandem creates nothing in this scenario (automatic contacts are off): any create is a duplicate.
  const creates = (calls: ReadonlyArray<{ method: string; path: string }>, pattern: RegExp) =>
    calls.filter((call) => call.method === 'POST' && pattern.test(call.path)).length;
  const duplicates = {
    crm: creates(hubspot.requests, /objects\/companies(\/batch\/create)?$/),
    customers: creates(bc.requests, /\/customers$/),
    vendors: creates(bc.requests, /\/vendors$/),
  };
  const converged = lost.every((entry) => {
    const values = Object.values(entry.found);
    return values.every((value) => value === values[0]);
  });
  return {
    seed: options.seed,
    seconds: options.seconds,
    topology: options.topology ?? 'all',
    edits: edits.length,
    lost,
    duplicates,
    converged,
  };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The calls that wrote a field of a company's records, oldest first, for the report of a lost edit. */
function fieldCalls(
  hubspot: HubSpotSandbox,
  bc: BusinessCentralSandbox,
  company: Company,
  field: Field,
  startedAt: number,
  /** The last 8 calls, or those within 10 s of this time. */
  window: { around?: number } = {},
): string[] {
  const ids = [company.hubspotId, company.customerId, ...(company.vendorId ? [company.vendorId] : [])];
  const valueOf = (body: unknown): string | undefined => {
    const text = JSON.stringify(body ?? null);
    return new RegExp(`"(?:${field}|${BC_FIELD[field]})":"([^"]*)"`).exec(text)?.[1];
  };
  // A single write names its record in the path; a batch update names it in one of its inputs.
  const valueIn = (call: { path: string; requestBody?: unknown }): string | undefined => {
    if (ids.some((id) => call.path.includes(id))) return valueOf(call.requestBody);
    const inputs = (call.requestBody as { inputs?: Array<{ id?: unknown }> } | undefined)?.inputs;
    const input = Array.isArray(inputs) ? inputs.find((each) => ids.includes(String(each.id))) : undefined;
    return input === undefined ? undefined : valueOf(input);
  };
  return [
    ...hubspot.requests.map((call) => ({ call, side: 'crm' })),
    ...bc.requests.map((call) => ({ call, side: 'bc' })),
  ]
    .filter(({ call }) => call.method !== 'GET' && valueIn(call) !== undefined)
    .filter(({ call }) => window.around === undefined || Math.abs(call.at - window.around) < 10_000)
    .sort((a, b) => a.call.at - b.call.at)
    .slice(window.around === undefined ? -8 : 0)
    .map(
      ({ call, side }) => `${side} ${call.method} ${String(valueIn(call))} @${call.at - startedAt} -> ${call.status}`,
    );
}

/** A Poisson-distributed count with the given mean (Knuth), from the run's generator. */
function poisson(rnd: () => number, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-Math.min(mean, 30));
  let count = 0;
  for (let product = rnd(); product > limit; product *= rnd()) count++;
  return count;
}

async function api(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status >= 400 && response.status !== 409)
    throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

async function waitForPort(port: number): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port }, () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    20_000,
    50,
  );
}

async function waitForTandem(base: string): Promise<void> {
  await waitFor(async () => (await fetch(new URL('/readyz', base)).catch(() => null))?.status === 200, 60_000, 200);
}

/** Waits until tandem's queues hold nothing waiting, active or delayed for two seconds in a row. */
async function settle(base: string): Promise<void> {
  let quietSince = 0;
  await waitFor(
    async () => {
      const status = (await api(base, 'GET', '/api/status')) as {
        queues: Record<string, { waiting: number; active: number; delayed: number }>;
      };
      const busy = Object.values(status.queues).some((counts) => counts.waiting + counts.active + counts.delayed > 0);
      if (busy) quietSince = 0;
      else quietSince ||= Date.now();
      return quietSince > 0 && Date.now() - quietSince >= 2000;
    },
    180_000,
    250,
  );
}

/** Runs a drift sweep through the admin API and waits for its report. */
async function runDrift(base: string): Promise<void> {
  await api(base, 'POST', '/api/drift');
  await waitFor(
    async () => {
      const status = (await api(base, 'GET', '/api/drift')) as { running: unknown; last: unknown };
      return status.running === null && status.last !== null;
    },
    180_000,
    250,
  );
}

/**
 * Reads the audit log: a field change that replaced a newer edit with an older value is a silent
 * overwrite unless a conflict row names the replaced value among its candidates. Every edit's
 * value is unique, so values tell which edit they came from (the seeded values count as oldest).
 */
async function auditedOverwrites(
  base: string,
  edits: Edit[],
): Promise<{ conflicts: number; silentOverwrites: ChaosReport['silentOverwrites']; recorded: Set<string | null> }> {
  interface Row {
    field: string | null;
    oldValue: string | null;
    newValue: string | null;
    details: { candidates?: Array<{ value: string | null }> } | null;
  }
  const changes = (await api(base, 'GET', '/api/audit?kind=fieldChange&limit=10000')) as Row[];
  const conflictRows = (await api(base, 'GET', '/api/audit?kind=conflict&limit=10000')) as Row[];
  const recorded = new Set(
    conflictRows.flatMap((row) => (row.details?.candidates ?? []).map((candidate) => candidate.value)),
  );
  const timeOf = new Map(edits.map((edit) => [edit.value, edit.at]));
  const silentOverwrites = changes
    .filter(
      (row) =>
        (timeOf.get(row.oldValue ?? '') ?? 0) > (timeOf.get(row.newValue ?? '') ?? 0) && !recorded.has(row.oldValue),
    )
    .map((row) => ({ field: row.field ?? '', replaced: row.oldValue ?? '', by: row.newValue ?? '', row }));
  return { conflicts: conflictRows.length, silentOverwrites, recorded };
}
