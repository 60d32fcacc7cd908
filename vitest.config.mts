import { defineConfig } from 'vitest/config';

// One test file at a time: the suite shares one Temporal server, one Postgres and
// one moto on a 2-core machine, and each file runs its own worker.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
