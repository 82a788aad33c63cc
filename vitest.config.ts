import { defineConfig } from 'vitest/config';

// One suite, several projects. `unit` needs nothing running; `integration` needs the local stack
// (Kafka, Kafka Connect + Debezium, PostgreSQL, Redis), which its global setup checks before any test runs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'relay/**/*.test.ts',
            'wasm/**/*.test.ts',
            'cli/**/*.test.ts',
            'test/unit/**/*.test.ts',
            // the test `ferry transform init` scaffolds beside each transform
            'transforms/*/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/stack-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
