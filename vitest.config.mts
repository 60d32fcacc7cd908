import { defineConfig } from 'vitest/config';

// Two tiers, test/unit and test/integration. `npm run test:unit` runs only the first;
// `npm test` runs both, unit first.
export default defineConfig({
  test: {
    projects: [
      {
        // Pure code: no Temporal, no Postgres, no moto, so no global setup. The stack
        // variables point at nothing, so a unit test that reaches for a service fails at
        // once instead of quietly using one that happens to be running.
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          env: {
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', // as the scripts do (README, Node.js)
            DATASHARE_STACK_DIR: '/nonexistent/datashare-unit-tests-use-no-stack',
            DATABASE_URL: 'postgres://unit-tests-use-no-database@127.0.0.1:9/none',
            SOURCE_DATABASE_URL: 'postgres://unit-tests-use-no-database@127.0.0.1:9/none',
            TEMPORAL_ADDRESS: '127.0.0.1:9',
            AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          },
          // Each takes well under a second; the margin is for a 2-core machine that is busy.
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Everything else runs against the real local services that the global setup
        // starts. One test file at a time: the suite shares one Temporal server, one
        // Postgres and one moto on a 2-core machine, and each file runs its own worker.
        test: {
          name: 'integration',
          // Chosen by `include` alone: a project's own `exclude` would replace, not extend,
          // the command line's `--exclude` (vitest 4.1), e.g. `npm test -- --exclude <file>`.
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
