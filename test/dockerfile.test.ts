/**
 * No Docker engine runs in the test environment, so the image is checked by what it copies: the
 * build stage must hold every folder the build compiles, and the runtime stage every file the
 * compiled code reads from the source tree.
 */
import { readFileSync } from 'node:fs';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);
/** The source paths of a stage's COPY lines that copy from the build context. */
const copied = (stage: string) =>
  [...stage.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((match) => (match[1] as string).split(/\s+/));

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
