/**
 * A short seeded chaos run as part of `npm test` (see test/chaos/run.ts; `npm run chaos` runs the
 * full one): tandem killed with SIGKILL and restarted, Redis killed once, PostgreSQL restarted
 * once, 5% of API calls answering 5xx and 2% never answering, webhooks dropped, duplicated and out
 * of order, the two systems' clocks minutes apart. Every edit must survive, on every side, with no
 * record created twice.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runChaos } from './chaos/run';
import { requireServers } from './support/servers';

const root = join(__dirname, '..');

test('a 60 s chaos run loses no edit, duplicates nothing and converges', async () => {
  await requireServers(['redis', 'postgres']);
  // tandem runs as its own process from the built CLI: build it from the tree under test.
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  const report = await runChaos({
    seed: Number(process.env.CHAOS_SEED ?? 7),
    seconds: 60,
    companies: 20,
    failureRate: 0.05,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    cliPath: join(root, 'dist', 'src', 'cli', 'main.js'),
  });
  expect(report.tandemKills).toBeGreaterThanOrEqual(6);
  expect(report.redisKills).toBe(1);
  expect(report.postgresRestarts).toBe(1);
  expect(report.timeouts).toBeGreaterThan(0);
  expect(Math.abs(report.clockOffsets.crm - report.clockOffsets.accounting)).toBeGreaterThan(0);
  expect(report.edits).toBeGreaterThan(100);
  expect(report.lost).toEqual([]);
  expect(report.silentOverwrites).toEqual([]);
  expect(report.duplicates).toEqual({ crm: 0, customers: 0, vendors: 0 });
  expect(report.converged).toBe(true);
}, 420_000);
