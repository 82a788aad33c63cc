import { defineConfig } from 'vitest/config';

// `npm run test:image`: builds the Containerfile with buildah and smoke-tests the image against the
// local stack. Kept out of `npm test` (its first run builds a Debian base, minutes); .ci/run runs it.
export default defineConfig({
  test: {
    name: 'image',
    include: ['test/image/**/*.test.ts'],
    globalSetup: ['test/support/stack-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 1_200_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
