/**
 * The import boundaries of .dependency-cruiser.cjs: each rule reports the wrong import it is for
 * (on a small fixture tree that breaks them), and the real tree breaks none of the rules that keep
 * the composition root outside the app (adapters through ports, no folder or module cycles).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
/** The rules this test holds the real tree to. */
const RULES = ['adapters-use-app-ports', 'app-does-not-reach-adapters', 'no-folder-cycles', 'no-module-cycles'];

const report = z.object({
  summary: z.object({
    violations: z.array(z.object({ from: z.string(), to: z.string(), rule: z.object({ name: z.string() }) })),
  }),
});

/** The violations depcruise reports for `paths` under `cwd`, sorted. */
async function violations(cwd: string, paths: string[]): Promise<Array<{ rule: string; from: string; to: string }>> {
  const args = [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'json'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return report
    .parse(JSON.parse(stdout))
    .summary.violations.map((violation) => ({ rule: violation.rule.name, from: violation.from, to: violation.to }))
    .sort((a, b) => `${a.rule} ${a.from}`.localeCompare(`${b.rule} ${b.from}`));
}

/** A tree that breaks each rule once, beside imports the rules allow. */
const FIXTURE: Record<string, string> = {
  'tsconfig.json': '{ "compilerOptions": { "module": "commonjs", "target": "es2022", "strict": true } }',
  // The core reaching a queue.
  'src/core/plan.ts': "import { runWorker } from '../queue/worker';\nexport const plan = () => runWorker();",
  'src/app/ports/store.ts': 'export interface Store { save(): void }',
  // A use case reaching the store adapter instead of its port.
  'src/app/use-case.ts': [
    "import type { Store } from './ports/store';",
    "import { sqlStore } from '../store/sql';",
    'export const useCase = (store: Store = sqlStore) => store.save();',
  ].join('\n'),
  // An adapter implementing a port: allowed.
  'src/store/sql.ts': [
    "import type { Store } from '../app/ports/store';",
    'export const sqlStore: Store = { save: () => undefined };',
  ].join('\n'),
  // An adapter calling into a use case.
  'src/queue/worker.ts': "import { useCase } from '../app/use-case';\nexport const runWorker = () => useCase();",
  // Two folders importing each other through different modules (no module cycle).
  'src/http/routes.ts': "import { registry } from '../metrics/registry';\nexport const routes = () => registry;",
  'src/http/auth.ts': "export const bearer = 'x';",
  'src/metrics/registry.ts': "import { bearer } from '../http/auth';\nexport const registry = bearer;",
  // Two modules importing each other in one folder.
  'src/util/a.ts': "import { b } from './b';\nexport const a = () => b();",
  'src/util/b.ts': "import { a } from './a';\nexport const b = (): unknown => a;",
  // A test beside its module wiring it through test/support: tests are held to no layer, no cycle.
  'src/intake/poller.ts': 'export const poll = () => 1;',
  'src/intake/poller.test.ts': "import { rig } from '../../test/support/rig';\ntest('polls', () => rig());",
  'test/support/rig.ts': "import { poll } from '../../src/intake/poller';\nexport const rig = () => poll();",
};

describe('import boundaries', () => {
  let fixture: string;

  beforeAll(async () => {
    fixture = await mkdtemp(path.join(tmpdir(), 'tandem-boundaries-'));
    for (const [file, text] of Object.entries(FIXTURE)) {
      await mkdir(path.dirname(path.join(fixture, file)), { recursive: true });
      await writeFile(path.join(fixture, file), `${text}\n`);
    }
  });
  afterAll(async () => {
    await rm(fixture, { recursive: true, force: true });
  });

  test('each rule reports the wrong import it is for, and only that', async () => {
    expect(await violations(fixture, ['src', 'test'])).toEqual([
      { rule: 'adapters-use-app-ports', from: 'src/queue/worker.ts', to: 'src/app/use-case.ts' },
      { rule: 'app-does-not-reach-adapters', from: 'src/app/use-case.ts', to: 'src/store/sql.ts' },
      { rule: 'core-is-pure', from: 'src/core/plan.ts', to: 'src/queue/worker.ts' },
      { rule: 'no-folder-cycles', from: 'src/http', to: 'src/metrics' },
      { rule: 'no-folder-cycles', from: 'src/metrics', to: 'src/http' },
      { rule: 'no-module-cycles', from: 'src/util/a.ts', to: 'src/util/b.ts' },
    ]);
  });

  test('the real tree breaks none of them', async () => {
    const found = await violations(ROOT, ['src', 'connectors', 'test']);
    expect(found.filter((violation) => RULES.includes(violation.rule))).toEqual([]);
  });
});
