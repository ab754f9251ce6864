/**
 * A private PostgreSQL cluster for tests that stop, restart or kill the server: the shared one at
 * 127.0.0.1:5432 is never touched. Each call makes a fresh cluster in its own temporary directory
 * (data, unix socket and log), listening on a free port on 127.0.0.1, with trust authentication
 * and fsync off (a stop, even an immediate one, loses no commit; only an OS crash would); `close()` stops that server (by its data directory, nothing else) and removes the
 * directory.
 *
 *   const pg = await startPrivatePostgres();
 *   const store = await openPostgresStore(pg.url);
 *   await pg.stop();        // fast shutdown: sessions are terminated (57P01), new ones refused
 *   await pg.start();       // same port, same data
 *   await pg.restart('immediate');
 *   await pg.close();       // in afterAll
 *
 * The binaries are those of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout; the
 * postgresql package that scripts/test-servers.sh installs brings them). As root, initdb and pg_ctl
 * run as the `postgres` user through runuser, since PostgreSQL refuses to run as root.
 */
import { execFile } from 'node:child_process';
import { access, appendFile, chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/util/net';

const run = promisify(execFile);

/** How pg_ctl stops the server: `fast` terminates sessions cleanly, `immediate` is like a crash, `smart` waits for them. */
export type StopMode = 'smart' | 'fast' | 'immediate';

/** A running private cluster. */
export interface PrivatePostgres {
  /** Connection string of its `postgres` database as the `postgres` user (no password). */
  readonly url: string;
  readonly port: number;
  /** The cluster's data directory (inside its temporary directory). */
  readonly dataDir: string;
  /** Stops the server (default `fast`) and waits until it is down; a stopped server is left as it is. */
  stop(mode?: StopMode): Promise<void>;
  /** Starts it again on the same port and data, and waits until it accepts connections. */
  start(): Promise<void>;
  /** stop(mode) then start(). */
  restart(mode?: StopMode): Promise<void>;
  /** Stops it if running and removes its directory; safe to call twice. */
  close(): Promise<void>;
}

/** Options of startPrivatePostgres. */
export interface PrivatePostgresOptions {
  /** Most time each of initdb, start and stop may take (default 60 s). */
  timeoutMs?: number;
}

/** The directory of the binaries is missing, or a command of the cluster failed. */
export class PrivatePostgresError extends Error {
  readonly code = 'PRIVATE_POSTGRES';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrivatePostgresError';
  }
}

const VERSIONS_DIR = '/usr/lib/postgresql';

/** Makes, configures and starts a private cluster. */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000) {
    throw new RangeError(`timeoutMs must be a whole number of milliseconds, at least 1000, got ${timeoutMs}`);
  }
  const bin = await binDirectory();
  const asRoot = process.getuid?.() === 0;
  const home = await mkdtemp(join(tmpdir(), 'tandem-pg-'));
  const dataDir = join(home, 'data');
  const logFile = join(home, 'server.log');
  const pgCtl = (...args: string[]) => command(asRoot, join(bin, 'pg_ctl'), ['-D', dataDir, ...args], timeoutMs);
  try {
    if (asRoot) await chownToPostgres(home);
    await command(
      asRoot,
      join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
      timeoutMs,
    );
    const port = await freePort();
    await appendFile(join(dataDir, 'postgresql.conf'), settings(port, home));
    let running = false;
    const start = async () => {
      try {
        await pgCtl('-l', logFile, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), 'start');
      } catch (error) {
        throw new PrivatePostgresError(`private PostgreSQL on port ${port} did not start: ${await tail(logFile)}`, {
          cause: error,
        });
      }
      running = true;
    };
    const stop = async (mode: StopMode = 'fast') => {
      if (!(await isRunning(pgCtl))) {
        running = false;
        return;
      }
      await pgCtl('-m', mode, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), 'stop');
      running = false;
    };
    await start();
    let closed = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      stop,
      start,
      async restart(mode) {
        await stop(mode);
        await start();
      },
      async close() {
        if (closed) return;
        closed = true;
        if (running || (await isRunning(pgCtl))) await stop('immediate');
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // Whatever got started is this cluster's own: stop it by its data directory, then clean up.
    await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

/** The server settings: its port and socket, loopback only, and durability traded for speed. */
function settings(port: number, socketDir: string): string {
  return [
    '',
    '# private test cluster (test/support/private-postgres.ts)',
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir}'`,
    // A crash (an immediate stop) still keeps every commit: the OS has the files, and commits
    // wait for their WAL to be written (synchronous_commit stays on).
    'fsync = off',
    'full_page_writes = off',
    'max_connections = 40',
    '',
  ].join('\n');
}

/** bin/ of the newest PostgreSQL version installed that has initdb and pg_ctl. */
async function binDirectory(): Promise<string> {
  const versions = await readdir(VERSIONS_DIR).catch(() => [] as string[]);
  const numbered = versions.filter((name) => /^\d+(\.\d+)?$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const version of numbered) {
    const bin = join(VERSIONS_DIR, version, 'bin');
    const present = await Promise.all(['initdb', 'pg_ctl'].map((tool) => exists(join(bin, tool))));
    if (present.every(Boolean)) return bin;
  }
  throw new PrivatePostgresError(
    `no PostgreSQL server binaries (initdb, pg_ctl) under ${VERSIONS_DIR}/<version>/bin; ` +
      'run: bash scripts/test-servers.sh postgres (as root it installs the postgresql package)',
  );
}

/** Runs a PostgreSQL tool, as the postgres user when we are root. */
async function command(asRoot: boolean, file: string, args: string[], timeoutMs: number): Promise<string> {
  const [program, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    const { stdout } = await run(program, argv, { timeout: timeoutMs, cwd: tmpdir() });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : String(error);
    throw new PrivatePostgresError(`${file} ${args.join(' ')} failed: ${detail}`, { cause: error });
  }
}

/** pg_ctl status: exit 0 when running, 3 when not. */
async function isRunning(pgCtl: (...args: string[]) => Promise<string>): Promise<boolean> {
  try {
    await pgCtl('status');
    return true;
  } catch {
    return false;
  }
}

async function chownToPostgres(path: string): Promise<void> {
  const [uid, gid] = await Promise.all([
    run('id', ['-u', 'postgres']).then(({ stdout }) => Number(stdout.trim())),
    run('id', ['-g', 'postgres']).then(({ stdout }) => Number(stdout.trim())),
  ]).catch((error: unknown) => {
    throw new PrivatePostgresError('there is no postgres user to run the cluster as (is PostgreSQL installed?)', {
      cause: error,
    });
  });
  await chown(path, uid, gid);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The last lines of the server log, for a failure's message. */
async function tail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '(no server log)');
  return text.trim().split('\n').slice(-5).join(' | ');
}
