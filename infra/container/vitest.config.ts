// The container image suite (`npm run test:container`), kept apart from
// `npm test`: it needs podman and a built image (infra/container/build-image.sh).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['infra/container/**/*.test.ts'],
    // Real containers on a loaded 2-core machine: generous bounds, not timing assertions.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
