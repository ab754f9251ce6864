/**
 * No Docker engine runs in the test environment, so the image is checked by what it copies: the
 * build stage must hold every folder the build compiles, the runtime stage every file the compiled
 * code reads from the source tree, and nothing of test/ may reach either the build or the image.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);
/** The source paths of a stage's COPY lines that copy from the build context. */
const copied = (stage: string) =>
  [...stage.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((match) => (match[1] as string).split(/\s+/));
/** The source paths of a stage's COPY lines that copy from an earlier stage. */
const copiedFromStage = (stage: string) =>
  [...stage.matchAll(/^COPY --from=\S+ (?:--\S+ )*(.+) \S+$/gm)].flatMap((match) => (match[1] as string).split(/\s+/));

/** Every file `tsc -p tsconfig.build.json` compiles: the ones it includes and every local file they import. */
function productionBuildFiles(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    'tsconfig.build.json',
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.build.json could not be read');
  const compiled = new Set<string>();
  const pending = [...config.fileNames];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (compiled.has(file)) continue;
    compiled.add(file);
    // The scanner's import list is enough: the question is which files tsc would pull in, not their types.
    for (const imported of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const resolved = ts.resolveModuleName(imported.fileName, file, config.options, ts.sys).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport) pending.push(resolved.resolvedFileName);
    }
  }
  return [...compiled].map((file) => relative(process.cwd(), file));
}

test('the build stage copies every folder tsconfig.build.json compiles', () => {
  const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { include: string[] };
  expect(stages).toHaveLength(2);
  const sources = copied(stages[0] as string);
  expect(build.include.filter((folder) => !sources.includes(folder))).toEqual([]);
});

test("the runtime stage copies the console's static files, which compiled code reads from the source tree", () => {
  const sources = copied(stages[1] as string);
  expect(sources).toEqual(expect.arrayContaining(['package.json', 'config', 'src/http/console/static']));
});

test('the production build compiles src/ and connectors/ only, and no test file', () => {
  const files = productionBuildFiles();
  const bin = (JSON.parse(readFileSync('package.json', 'utf8')) as { bin: { tandem: string } }).bin.tandem;
  expect(files).toContain(bin.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
  expect(files.some((file) => file.startsWith('connectors/'))).toBe(true);
  expect(files.filter((file) => !/^(src|connectors)\//.test(file) || file.endsWith('.test.ts'))).toEqual([]);
});

test('nothing of test/ ships: no stage copies it, and the image takes only node_modules and dist from the build', () => {
  const sources = stages.flatMap((stage) => copied(stage));
  expect(sources.filter((source) => source === '.' || /^(\.\/)?test(\/|$)/.test(source))).toEqual([]);
  expect(copiedFromStage(stages[1] as string).sort()).toEqual(['/app/dist', '/app/node_modules']);
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; ports?: string[]; environment?: Record<string, string> }>;
  };
  const tandems = Object.entries(compose.services).filter(([, service]) => service.image === 'tandem:local');

  it('never publishes tandem on every interface without a required metrics token', () => {
    expect(tandems.length).toBeGreaterThanOrEqual(4);
    for (const [name, service] of tandems) {
      const published = (service.ports ?? []).some((port) => !port.startsWith('127.0.0.1:'));
      if (!published) continue;
      // `${VAR:?message}`: compose refuses to start without the variable.
      expect({ name, token: service.environment?.['TANDEM_METRICS_TOKEN'] }).toEqual({
        name,
        token: expect.stringMatching(/^\$\{TANDEM_METRICS_TOKEN:\?.+\}$/) as unknown,
      });
    }
  });
});
