/**
 * A real trytond 6.0 for integration tests: a SQLite database built once by
 * scripts/tryton/create-db.sh and kept as a template in the OS temp directory (keyed by the
 * scripts' contents), copied afresh for every server, and `trytond` started on a free loopback
 * port. Building the template takes about 25 s; each server after that starts in a second or two.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { freePort } from '../../../src/util/net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { z } from 'zod';
import type { ConnectorSettings } from '../../../connectors/kit/define';
import { HttpClient } from '../../../connectors/kit/http';
import { trytonConfig } from '../../../connectors/tryton/config';
import { TrytonRpc } from '../../../connectors/tryton/rpc';
import { requireServers } from '../servers';

const run = promisify(execFile);
const SCRIPTS = resolve(__dirname, '../../../scripts/tryton');
const DATABASE = 'tandem';
const USERNAME = 'admin';
const PASSWORD = 'tandem-admin';

/** A running trytond with a fresh copy of the template database. */
export interface TrytondInstance {
  url: string;
  database: string;
  username: string;
  password: string;
  /** A second session, acting as a user in Tryton's own client would. */
  user: TrytonRpc;
  /** Deletes every session on the server (ir.session), as its `[session] timeout` would end them. */
  endSessions(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Builds the template database once per version of the scripts; concurrent test files wait for one build. */
async function templateDir(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['create-db.sh', 'setup-db.py']) hash.update(readFileSync(join(SCRIPTS, file)));
  const dir = join(tmpdir(), `tandem-trytond-template-${hash.digest('hex').slice(0, 12)}`);
  const lock = `${dir}.lock`;
  for (let waited = 0; !existsSync(join(dir, `${DATABASE}.sqlite`)); waited += 500) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 180_000)
        throw new Error(`trytond template: ${lock} held for 3 minutes; remove it if no test is running`);
      await sleep(500);
      continue;
    }
    try {
      const building = mkdtempSync(`${dir}.building-`);
      try {
        await run(join(SCRIPTS, 'create-db.sh'), [building, DATABASE, '8000', PASSWORD], { timeout: 300_000 });
      } catch (error) {
        const log = existsSync(join(building, 'admin.log'))
          ? readFileSync(join(building, 'admin.log'), 'utf8').slice(-2000)
          : '';
        throw new Error(`creating the trytond template database failed: ${String(error)}\n${log}`, { cause: error });
      }
      renameSync(building, dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return dir;
}

/** Starts trytond on a fresh copy of the template database; fails with TestServerMissingError when trytond is missing. */
export async function startTrytond(): Promise<TrytondInstance> {
  await requireServers(['trytond']);
  const template = await templateDir();
  const dir = mkdtempSync(join(tmpdir(), 'tandem-trytond-'));
  copyFileSync(join(template, `${DATABASE}.sqlite`), join(dir, `${DATABASE}.sqlite`));
  const port = await freePort();
  const conf = join(dir, 'trytond.conf');
  writeFileSync(
    conf,
    `[database]\nuri = sqlite://\npath = ${dir}\nlist = False\n\n[web]\nlisten = 127.0.0.1:${port}\n\n[session]\ntimeout = 3600\n`,
  );
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('trytond', ['-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONWARNINGS: 'ignore' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (running()) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const credentials = { username: USERNAME, password: PASSWORD };
  const user = new TrytonRpc(
    'tryton-user',
    { baseUrl: url, database: DATABASE, credentials },
    (options) => new HttpClient({ connector: 'tryton-user', ...options, retry: { baseDelayMs: 1, attempts: 1 } }),
  );
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`trytond exited with ${child.exitCode}: ${stderr}`);
    try {
      await user.context();
      break;
    } catch {
      if (attempt > 150) {
        await stop();
        throw new Error(`trytond did not answer on ${url} within 30 s: ${stderr}`);
      }
      await sleep(200);
    }
  }
  // ir.session is not open to JSON-RPC, so the sessions are ended in the database file itself.
  const endSessions = async () => {
    await run('/usr/bin/python3', [
      '-c',
      'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM ir_session"); c.commit()',
      join(dir, `${DATABASE}.sqlite`),
    ]);
  };
  return { url, database: DATABASE, username: USERNAME, password: PASSWORD, user, endSessions, stop };
}

/** The Tryton connector's settings for a running trytond: its defaults, with `overrides` applied. */
export function trytonSettings(
  trytond: TrytondInstance,
  overrides: Partial<z.input<typeof trytonConfig>> = {},
): ConnectorSettings<typeof trytonConfig> {
  const credentials = { username: trytond.username, password: trytond.password };
  return { ...trytonConfig.parse({ database: trytond.database, credentials, ...overrides }), baseUrl: trytond.url };
}
