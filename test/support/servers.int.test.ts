/**
 * The servers helper and scripts/test-servers.sh behind it: a missing server fails a suite with the
 * script's own message, and a Redis that is installed but stopped is started. The stopped Redis is
 * a private one on a free port, started here and ended here by its pid.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { freePort } from '../../src/util/net';
import { requireServers, TEST_SERVERS_SCRIPT, TestServerMissingError } from './servers';

const run = promisify(execFile);
const RUN_LINE = /^Run: (sudo )?bash scripts\/test-servers\.sh \(npm test runs it first;/m;

/** The script's exit status and what it wrote to stderr. */
async function script(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('bash', [TEST_SERVERS_SCRIPT, ...args], { env });
    return { code: 0, stderr };
  } catch (error) {
    return z.object({ code: z.number(), stderr: z.string() }).parse(error);
  }
}

/** The error requireServers rejects with; fails the test when it resolves. */
async function missing(...args: Parameters<typeof requireServers>): Promise<TestServerMissingError> {
  try {
    await requireServers(...args);
  } catch (error) {
    expect(error).toBeInstanceOf(TestServerMissingError);
    return error as TestServerMissingError;
  }
  throw new Error('requireServers resolved although a server is missing');
}

test('a Redis that does not answer fails the suite with the message the script prints', async () => {
  const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
  const error = await missing(['redis'], env);
  expect(error.code).toBe('TEST_SERVER_MISSING');
  expect(error.message).toContain(`Redis at ${env.REDIS_URL}: nothing answers`);
  expect(error.message).toMatch(RUN_LINE);
  const checked = await script(['--check', 'redis'], env);
  expect(checked.code).toBe(1);
  expect(checked.stderr.trim()).toBe(error.message);
});

test('a Chromium missing from CHROMIUM_PATH fails the suite, naming the path', async () => {
  const error = await missing(['chromium'], { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' });
  expect(error.message).toContain('Chromium at /nonexistent/chromium: not installed');
  expect(error.message).toMatch(RUN_LINE);
});

test('every missing server is named in one message', async () => {
  const env = {
    ...process.env,
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test`,
  };
  const error = await missing(['redis', 'postgres'], env);
  expect(error.message.split('\n').filter((line) => line.startsWith('  '))).toEqual([
    `  Redis at ${env.REDIS_URL}: nothing answers`,
    expect.stringMatching(new RegExp(`^  PostgreSQL at ${env.DATABASE_URL}: .*Connection refused`)),
  ]);
});

test('the servers npm test made sure of pass', async () => {
  await expect(requireServers(['redis', 'postgres', 'chromium', 'trytond'])).resolves.toBeUndefined();
});

test('the script refuses a server it does not know', async () => {
  const result = await script(['--check', 'radius'], process.env);
  expect(result).toEqual({ code: 2, stderr: expect.stringContaining("unknown server 'radius'") });
});

describe('a Redis that is installed but stopped', () => {
  let port: number;
  const pidFile = () => join(tmpdir(), `tandem-redis-${port}.pid`);

  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => {
    try {
      process.kill(Number(readFileSync(pidFile(), 'utf8').trim()), 'SIGTERM');
    } catch {
      // Not started: the test below has failed already and says why.
    }
  });

  it('is started by the script, and then the check passes', async () => {
    const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` };
    await expect(missing(['redis'], env)).resolves.toBeInstanceOf(TestServerMissingError);
    const started = await script(['redis'], env);
    expect(started).toEqual({ code: 0, stderr: expect.stringContaining(`starting Redis at ${env.REDIS_URL}`) });
    await expect(requireServers(['redis'], env)).resolves.toBeUndefined();
  });
});
