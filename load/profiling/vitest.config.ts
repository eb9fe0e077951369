import { defineConfig } from 'vitest/config';

// The profiling suite: `npm run test:profiling`. Separate from `npm test`
// because it runs the real service under 0x and clinic.js (on this Node and
// on Node 24), drives load at it and opens every report in headless Chromium:
// a few minutes on a small machine. Needs load/profiling/install-tools.sh
// (0x, clinic), Chromium (load/test/install-browser.sh) and Go (go tool pprof).
export default defineConfig({
  test: {
    include: ['load/profiling/test/**/*.test.ts'],
    root: new URL('../..', import.meta.url).pathname,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Each end-to-end file starts services under profilers: one at a time on 2 cores.
    fileParallelism: false,
  },
});
