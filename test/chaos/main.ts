/**
 * `npm run chaos [-- --seed N --seconds S --companies C --failure-rate R --timeout-rate R
 * --skew-seconds S --topology all|split]`: the chaos run (./run.ts), printed as
 * JSON; exits 1 on any lost edit, duplicate or unconverged field.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './run';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '90' },
      companies: { type: 'string', default: '30' },
      'failure-rate': { type: 'string', default: '0.05' },
      'timeout-rate': { type: 'string', default: '0.02' },
      'skew-seconds': { type: 'string', default: '300' },
      topology: { type: 'string', default: 'all' },
    },
  });
  const report = await runChaos({
    seed: Number(values.seed),
    seconds: Number(values.seconds),
    companies: Number(values.companies),
    failureRate: Number(values['failure-rate']),
    timeoutRate: Number(values['timeout-rate']),
    skewSeconds: Number(values['skew-seconds']),
    topology: values.topology === 'split' ? 'split' : 'all',
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    cliPath: join(__dirname, '..', '..', '..', 'dist', 'src', 'cli', 'main.js'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const failed =
    report.lost.length > 0 ||
    report.silentOverwrites.length > 0 ||
    !report.converged ||
    Object.values(report.duplicates).some((count) => count > 0);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
