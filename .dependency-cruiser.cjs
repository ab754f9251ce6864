/**
 * Import boundaries, checked by `npm run lint` (depcruise). The layers, innermost first:
 *
 *   src/core        sync decisions: pure functions over plain data; imports nothing outside itself
 *                   (but libphonenumber-js, the numbering plans, pure as well)
 *   connectors/kit  the connector and sandbox kits: the core model and npm packages only
 *   connectors/<x>  one folder per external system: the core model, the kit and its own folder
 *   src/app         use cases and the ports they need
 *   adapters        src/{queue,store,http,intake,metrics}: app ports, never a use case's internals
 *   src/main        the composition root (with the CLI and the demo): may import anything
 *
 * and no two folders depend on each other, however indirectly.
 */
/** Test files are held to no layer: a test may wire whatever it tests with. Test support lives in test/. */
const TESTS = '\\.test\\.ts$|^test/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Two folders import each other (directly or through others): move the shared part inward.',
      scope: 'folder',
      // Only test files import test/ (production-never-imports-tests), so a cycle that starts by
      // stepping into test/ is a test wiring what it tests. Folder rules cannot filter the folders
      // in between, so a cycle that passes through test/ further on is still reported.
      from: { path: '^(src|connectors)/' },
      to: { circular: true, pathNot: '^test/' },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      comment: 'Modules import each other in a circle.',
      from: { path: '^(src|connectors)/' },
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment:
        'src/core decides; it imports nothing outside src/core (no I/O, no framework, no config), but for libphonenumber-js: phone numbering plans as pure data and functions.',
      from: { path: '^src/core/', pathNot: TESTS },
      to: { pathNot: ['^src/core/', '^node_modules/libphonenumber-js/'] },
    },
    {
      name: 'kit-imports-core-model-only',
      severity: 'error',
      comment: 'The kits build on the canonical model and npm packages only.',
      from: { path: '^connectors/kit/', pathNot: TESTS },
      to: { path: '^(src|connectors|test)/', pathNot: ['^connectors/kit/', '^src/core/model\\.ts$'] },
    },
    {
      name: 'connector-imports-model-kit-and-itself',
      severity: 'error',
      comment: 'A connector imports the core model, the kit and its own folder; nothing else of tandem.',
      from: { path: '^connectors/(?!kit/)([^/]+)/', pathNot: TESTS },
      to: {
        path: '^(src|connectors|test)/',
        pathNot: ['^connectors/kit/', '^src/core/model\\.ts$', '^connectors/$1/'],
      },
    },
    {
      name: 'adapters-use-app-ports',
      severity: 'error',
      comment: 'Adapters (queue, store, http, intake, metrics) see the app only through src/app/ports.',
      from: { path: '^src/(queue|store|http|intake|metrics)/', pathNot: TESTS },
      to: { path: '^src/app/', pathNot: '^src/app/ports(\\.ts$|/)' },
    },
    {
      name: 'app-does-not-reach-adapters',
      severity: 'error',
      comment: 'Use cases reach queues, stores, HTTP and metrics through ports that src/main wires.',
      from: { path: '^src/app/', pathNot: TESTS },
      to: { path: '^src/(queue|store|http|intake|metrics|main|cli|demo)/' },
    },
    {
      name: 'only-the-registry-knows-connectors',
      severity: 'error',
      comment: 'Outside connectors/, only the registry (connectors/index.ts) names a connector; others use the kit.',
      from: { path: '^src/', pathNot: ['^src/demo/', TESTS] },
      to: { path: '^connectors/(?!kit/|index\\.ts$)' },
    },
    {
      name: 'production-never-imports-tests',
      severity: 'error',
      comment: 'Nothing that ships imports test code.',
      from: { path: '^(src|connectors)/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  options: {
    // Test files are not followed: they are held to no layer, and a test beside its module that
    // wires the daemon through test/support would otherwise turn every folder it tests into a
    // cycle. An import of a test file from shipping code is still seen (production-never-imports-tests).
    doNotFollow: { path: ['node_modules', TESTS] },
    exclude: { path: '(^|/)(dist|dist-bench|node_modules)/' },
    includeOnly: '^(src|connectors|test)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
