// `npm run test:prod` only (never `npm test`): a documented subset of the integration tests plus the
// production-shape tests (test/prod), run against the self-hosted Temporal server on PostgreSQL that
// scripts/test-prod.ts starts and names in TEMPORAL_TEST_ADDRESS.
import { defineConfig } from 'vitest/config';

/** The subset: every saga (the kill tests included) and the cluster manager. */
export const prodSubset = [
  'test/integration/sagas/*.test.ts',
  'test/integration/cluster-manager.test.ts',
  'test/prod/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'prod',
          include: prodSubset,
          pool: 'forks',
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
