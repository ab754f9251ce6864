/**
 * tandem as a user runs it: `tandem start` in a process of its own, on a config file and the
 * environment, with the sandboxes staying in the bench's process. What the bench then reads of
 * the process (its resident set, its peak, its CPU time, from /proc) is tandem's alone: the
 * sandboxes' records and request logs are not counted, nor is their CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { BusinessCentralSandbox } from '../../connectors/business-central/sandbox';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox';
import {
  daemonStatusSchema,
  firstSyncReportSchema,
  firstSyncStartSchema,
  firstSyncStatusSchema,
} from '../../src/http/api/schemas';
import { freePort } from '../../src/util/net';
import { sandboxConnectors } from '../support/harness';
import { round, sleep } from './common';

/** The CLI, as built with the bench (tsconfig.bench.json includes it). */
const CLI = [
  join(__dirname, '..', '..', 'src', 'cli', 'main.js'),
  join(__dirname, '..', '..', '..', 'dist', 'src', 'cli', 'main.js'),
];

const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** Linux reports CPU times in /proc in ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

export interface TandemProcessOptions {
  /** The config file's text; `port` is the one the process is to listen on (server.port). */
  config: (port: number) => string;
  /** More environment (secrets, DATABASE_URL or TANDEM_DATA_DIR, REDIS_URL). */
  env: Record<string, string>;
  /** Where the config file and the process's log go. */
  dir: string;
  /** Names the process's CPU profile with BENCH_PROFILE: `<name>.tandem.cpuprofile`. */
  name: string;
}

/** What /proc says of the process: resident set now and at its peak (MB), CPU time used (ms). */
export interface ProcessUsage {
  rssMb: number;
  peakRssMb: number;
  cpuMs: number;
}

export interface TandemProcess {
  url: string;
  pid: number;
  /** A call of the admin API with an admin token; answers the status and the parsed body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  usage(): ProcessUsage;
  /** SIGTERM, SIGKILL after 20 s; the log is kept in `dir`. */
  stop(): Promise<void>;
}

const KB = /^(\w+):\s+(\d+) kB$/;

/** A process's usage from /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/stat (utime, stime). */
export function processUsage(pid: number): ProcessUsage {
  const status = new Map<string, number>();
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const match = KB.exec(line);
    if (match) status.set(match[1]!, Number(match[2]));
  }
  // The command name (field 2) may hold spaces: the fields after it are counted from its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    rssMb: round((status.get('VmRSS') ?? 0) / 1024),
    peakRssMb: round((status.get('VmHWM') ?? 0) / 1024),
    cpuMs: Math.round((ticks * 1000) / TICKS_PER_SECOND),
  };
}

const health = z.looseObject({ status: z.string() });

export async function startTandemProcess(options: TandemProcessOptions): Promise<TandemProcess> {
  const cli = CLI.find((path) => existsSync(path));
  if (cli === undefined) throw new Error(`the tandem CLI is not built (looked for ${CLI.join(', ')})`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(options.dir, 'tandem.yaml');
  writeFileSync(configFile, options.config(port));
  const logFile = join(options.dir, 'tandem.log');
  // With BENCH_PROFILE, the process writes a CPU profile of its whole life when it stops.
  const profile = process.env.BENCH_PROFILE;
  const profiling = profile
    ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, `--cpu-prof-name=${options.name}.tandem.cpuprofile`]
    : [];
  const child: ChildProcess = spawn(process.execPath, [...profiling, cli, 'start'], {
    env: {
      ...process.env,
      ...options.env,
      TANDEM_CONFIG: configFile,
      TANDEM_ADMIN_TOKENS: ADMIN_TOKEN,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = (chunk: Buffer) => writeFileSync(logFile, chunk, { flag: 'a' });
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('tandem did not start');

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && process.kill(pid, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tandem exited with ${child.exitCode}; see ${logFile}`);
    const answer = await fetch(`${url}/healthz`).then(
      async (response) => health.safeParse(await response.json()).success,
      () => false,
    );
    if (answer) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`tandem did not answer /healthz within 60 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, pid, api, usage: () => processUsage(pid), stop };
}

/** The secrets of the sandboxes, as tandem's config reads them from its environment. */
export const BENCH_HUBSPOT_TOKEN = 'bench-hubspot-token';
export const BENCH_HUBSPOT_SECRET = 'bench-hubspot-secret';
const BC_STATE = 'bench-client-state';

/** The environment that holds the secrets benchConfigText names. */
export function benchSecrets(bc: Pick<BusinessCentralSandbox, 'clientSecret'>): Record<string, string> {
  return {
    BENCH_HUBSPOT_TOKEN,
    BENCH_HUBSPOT_SECRET,
    BENCH_BC_CLIENT_SECRET: bc.clientSecret,
    BENCH_BC_CLIENT_STATE: BC_STATE,
  };
}

/** A config value read from the environment (secrets may only be written so). */
const fromEnv = (name: string) => ['${', name, '}'].join('');

/**
 * The config a bench runs tandem with: the product's defaults but for the two sandboxes, the
 * mappings of the test rig, and no poll or drift sweep while it measures (a first poll lists every
 * record, which is not what is measured).
 */
export function benchConfigText(
  hubspot: Pick<HubSpotSandbox, 'url'>,
  bc: Pick<BusinessCentralSandbox, 'url' | 'companyId' | 'tokenUrl' | 'clientId'>,
  prefix: string,
  port: number,
  options: { accountingWebhooks: boolean },
): string {
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
        accounting: { ...connectors.accounting, pollEvery: '24h', webhooks: options.accountingWebhooks },
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

/** How often the bench asks how far tandem is. */
const STATUS_EVERY_MS = 500;

/**
 * Starts a first sync (not a dry run) through the admin API and follows it to its report,
 * telling `phase` each phase it reports.
 */
export async function runFirstSync(
  tandem: TandemProcess,
  phase: (name: string) => void = () => undefined,
): Promise<z.output<typeof firstSyncReportSchema>> {
  const startedAt = Date.now();
  const started = await tandem.api('POST', '/api/first-sync', { dryRun: false });
  if (started.status !== 202) throw new Error(`the first sync did not start: ${JSON.stringify(started.body)}`);
  firstSyncStartSchema.parse(started.body);
  for (;;) {
    await sleep(STATUS_EVERY_MS);
    const status = firstSyncStatusSchema.parse((await tandem.api('GET', '/api/first-sync')).body);
    phase(status.running?.phase ?? 'finishing');
    // Done when nothing runs and the last report is of this run (finished after it was started).
    if (status.running === null && status.last !== null && Date.parse(status.last.finishedAt) >= startedAt)
      return status.last;
  }
}

/**
 * Waits until the sandboxes have sent every webhook they hold and tandem's queues hold no job
 * waiting, running or put off, twice in a row.
 */
export async function tandemQuiet(
  tandem: TandemProcess,
  sandboxes: { hubspot: Pick<HubSpotSandbox, 'flushWebhooks'>; bc: Pick<BusinessCentralSandbox, 'flushNotifications'> },
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietLooks = 0;
  while (quietLooks < 2) {
    if (Date.now() > deadline) throw new Error(`tandem's queues were not quiet within ${timeoutMs} ms`);
    await sandboxes.hubspot.flushWebhooks();
    await sandboxes.bc.flushNotifications();
    const status = daemonStatusSchema.parse((await tandem.api('GET', '/api/status')).body);
    const busy = Object.values(status.queues).some((counts) => counts.waiting + counts.active + counts.delayed > 0);
    quietLooks = busy ? 0 : quietLooks + 1;
    await sleep(STATUS_EVERY_MS);
  }
}
