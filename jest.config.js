/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/connectors', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // Most suites wait on servers and sandboxes rather than compute: two workers keep both cores of
  // a small machine busy, where jest's default (cores - 1) would run them one after another.
  maxWorkers: 2,
};
