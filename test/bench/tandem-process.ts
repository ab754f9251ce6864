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
import { freePort } from '../../src/util/net';
import { round } from './common';

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
  const profiling = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, '--cpu-prof-name=tandem.cpuprofile'] : [];
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
