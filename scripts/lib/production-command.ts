// How production starts the service: the image's CMD (Dockerfile), `npm start`,
// and every harness that measures or emulates the service as deployed (load
// tests, benchmarks, the chart's pod emulation) run `node <flags> <entry>` with
// these. service/test/production-command.test.ts holds the Dockerfile and
// package.json to the same list.
//
// --max-semi-space-size=16: V8 sizes its young generation from the memory it
// may use, and under the chart's 512Mi limit (which Node.js reads from the
// cgroup) it picks 1 MB semi-spaces, against 32 MB on an unconstrained 24 GB
// machine. Requests that wait on I/O then outlive several scavenges and are
// promoted, so the old generation collects them. c10k in a 512 MiB memory
// cgroup, Node 24: 7,601 and 9,343 req/s at 1,000 connections with V8's pick,
// 14,387 and 17,376 with 16 MB; peak RSS ~265 -> ~305 MB, far under the limit
// (docs/load-testing.md, "In a memory-limited pod").
export const PRODUCTION_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

/** The production bundle (scripts/bundle.mjs), relative to the repository root (the image's /app). */
export const PRODUCTION_ENTRY = 'dist/bundle/periscope.js';

/**
 * A `node -e` script that shows the young generation V8 chose: it churns
 * through short-lived objects (V8 grows the new space to its maximum, two
 * semi-spaces) and prints `{"newSpace": bytes, "limit": constrained memory}`.
 * The tests run it with and without the flags above.
 */
export const YOUNG_GENERATION_PROBE = [
  'const v8 = require("node:v8");',
  'let a = [];',
  'for (let i = 0; i < 5e6; i++) { a.push({ i }); if (a.length > 2e5) a = []; }',
  'const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");',
  'console.log(JSON.stringify({ newSpace: s.space_size, limit: process.constrainedMemory() }));',
].join('\n');

/** Arguments after `node`: the production flags, any extra node flags, then the bundle. */
export function productionArgs(extraNodeFlags: readonly string[] = []): string[] {
  return [...PRODUCTION_NODE_FLAGS, ...extraNodeFlags, PRODUCTION_ENTRY];
}
