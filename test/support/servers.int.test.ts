/**
 * The servers helper and scripts/test-servers.sh behind it: a missing server fails a suite with the
 * script's own message, a Redis that is installed but stopped is started, and a missing trytond is
 * installed. The stopped Redis is a private one on a free port, started here and ended here by its
 * pid; the install runs against an apt-get and a dpkg-query on PATH that only record and report.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  await expect(requireServers(['redis', 'redis_cluster', 'postgres', 'chromium', 'trytond'])).resolves.toBeUndefined();
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

describe('a trytond that is missing', () => {
  let dir: string;
  const packages =
    'tryton-server tryton-modules-party tryton-modules-bank tryton-modules-account tryton-modules-company ' +
    'tryton-modules-currency tryton-modules-country tryton-modules-sale tryton-modules-purchase';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-test-servers-'));
    // apt-get records its arguments and marks the packages installed; dpkg-query reports them so.
    writeFileSync(
      join(dir, 'apt-get'),
      '#!/bin/sh\necho "$*" >> "$FAKE_APT_LOG"\ncase " $* " in *" install "*) touch "$FAKE_APT_INSTALLED" ;; esac\n',
    );
    writeFileSync(
      join(dir, 'dpkg-query'),
      '#!/bin/sh\n[ -e "$FAKE_APT_INSTALLED" ] || exit 1\nfor arg; do case $arg in -*) ;; *) echo "$arg ii " ;; esac; done\n',
    );
    chmodSync(join(dir, 'apt-get'), 0o755);
    chmodSync(join(dir, 'dpkg-query'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is installed from Debian's packages with one apt-get update when run as root, else named with sudo", async () => {
    const log = join(dir, 'apt.log');
    const env = {
      ...process.env,
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      FAKE_APT_LOG: log,
      FAKE_APT_INSTALLED: join(dir, 'installed'),
    };
    const result = await script(['trytond'], env);
    if (process.getuid?.() === 0) {
      expect(result).toEqual({ code: 0, stderr: expect.stringContaining(`Debian's packages: ${packages}`) });
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
        'update -qq',
        `install -y -qq --no-install-recommends ${packages}`,
      ]);
    } else {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('installing it needs root');
      expect(result.stderr).toMatch(/^Run: sudo bash scripts\/test-servers\.sh/m);
      expect(existsSync(log)).toBe(false);
    }
  });
});
