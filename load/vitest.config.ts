import { defineConfig } from 'vitest/config';

// The load-testing suite: `npm run test:load`. Separate from `npm test`
// because its end-to-end tests start the real service, put real load on it
// and open the report in Chromium (about a minute on a small machine).
export default defineConfig({
  test: {
    include: ['load/test/**/*.test.ts'],
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The end-to-end files each start a service and a generator: one at a time.
    fileParallelism: false,
  },
});
