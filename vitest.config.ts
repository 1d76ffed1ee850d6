import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Two cores: run files in parallel on two workers; each file owns its databases.
    maxWorkers: 2,
    // Generous: PGlite takes ~1 s to open on a quiet machine, ten times that on a busy one.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
