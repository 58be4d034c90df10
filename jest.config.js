// Two tiers: unit specs beside the code (no services), and integration/e2e specs in test/
// against the real PostgreSQL and Redis (a fresh database per run, created in global set-up).
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
};

module.exports = {
  // Bull and ioredis leave timers behind for a moment after close; do not let them hold the run.
  forceExit: true,
  // Two test files at a time: most of an e2e file's time is spent waiting on PostgreSQL, Redis,
  // worker processes or Chromium, so two overlap well on two cores; a fixed number (not a share
  // of the cores) keeps the connections to the one PostgreSQL bounded on bigger machines.
  maxWorkers: 2,
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/loadtest/**/*.spec.ts'],
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/integration/**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
    },
    {
      // Real processes killed and services stopped for longer than the retry budget: minutes, run
      // by `npm run test:faults` (and in CI), not on every `npm test`.
      displayName: 'faults',
      rootDir: __dirname,
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/faults/**/*.fault.e2e-spec.ts'],
    },
  ],
};
