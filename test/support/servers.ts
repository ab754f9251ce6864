/**
 * The real servers a suite needs, checked by scripts/test-servers.sh itself (`--check`), so that a
 * suite whose server is missing fails with the very message `npm test` prints, and none skips.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);

/**
 * The script that makes sure of the servers; `npm test` runs it before jest. Found from the
 * source tree or from a build of it (dist-bench/test/support, dist-chaos/...), whose scripts
 * folder is the repository's.
 */
export const TEST_SERVERS_SCRIPT =
  [resolve(__dirname, '../../scripts/test-servers.sh'), resolve(__dirname, '../../../scripts/test-servers.sh')].find(
    (path) => existsSync(path),
  ) ?? resolve(__dirname, '../../scripts/test-servers.sh');

/** A server the script knows (its SERVERS list). */
export type TestServer = 'redis' | 'redis_cluster' | 'postgres' | 'chromium' | 'trytond' | 'radicale';

/** A server a suite needs is missing; the message names the command that brings it. */
export class TestServerMissingError extends Error {
  /** Stable code for callers that branch on the kind of failure. */
  readonly code = 'TEST_SERVER_MISSING';

  constructor(message: string) {
    super(message);
    this.name = 'TestServerMissingError';
  }
}

/** What execFile's error carries when the child ran and exited with a status. */
const exitedProcess = z.object({ code: z.number(), stderr: z.string() });

/** One check per server and file: a suite may start many rigs, the answer does not change meanwhile. */
const checked = new Map<TestServer, Promise<void>>();

async function check(servers: readonly TestServer[], env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run('bash', [TEST_SERVERS_SCRIPT, '--check', ...servers], { env, timeout: 30_000 });
  } catch (error) {
    // Exit 1 is the script's verdict, with its message; anything else is a broken script.
    const exited = exitedProcess.safeParse(error);
    if (exited.success && exited.data.code === 1) throw new TestServerMissingError(exited.data.stderr.trim());
    throw error;
  }
}

/**
 * Fails with TestServerMissingError when one of the servers is not there. Call it in `beforeAll`
 * (or where the suite first needs the server). `env` points the check elsewhere (REDIS_URL,
 * DATABASE_URL, CHROMIUM_PATH); with the default, each server is checked once per test file.
 */
export async function requireServers(servers: readonly TestServer[], env?: NodeJS.ProcessEnv): Promise<void> {
  if (env !== undefined) return check(servers, env);
  await Promise.all(
    servers.map((server) => {
      let pending = checked.get(server);
      if (pending === undefined) {
        pending = check([server], process.env);
        checked.set(server, pending);
      }
      return pending;
    }),
  );
}
