#!/usr/bin/env node
// Bundles the service for production: service/src/production.ts and
// everything it imports → dist/bundle/periscope.js (+ chunks for what loads
// later, + source maps). Run by `npm run build` after tsc.
//
// Why: resolving and compiling ~500 separate modules was most of the
// start-up time; one bundle gets to ready in about two thirds of it
// (README, Performance). The bundle is unminified and source-mapped, so its
// stack traces and profiles stay readable (`NODE_OPTIONS=--enable-source-maps`
// maps stacks to the TypeScript sources).
//
// External (loaded from node_modules at run time, as before):
//   - native or development-only modules: @datadog/pprof, pino-pretty;
//   - piscina, which starts its worker threads from a file next to its own
//     (__dirname): bundled, it would look for that file in dist/bundle/;
//   - modules the service imports only after it is ready or on demand
//     (span exporters, undici, ioredis, yaml). Tried bundled into lazy
//     chunks: the exporter would load ~70 ms faster, but through esbuild's
//     dynamic-import interop no span reached Jaeger and undici's Pool came
//     back undefined (infra/test caught both), so they stay out.
// An OpenTelemetry instrumentation that patches a module when it is required
// cannot see a bundled copy: add that module here, or run the unbundled
// `node --import ./dist/telemetry/register.js dist/main.js` (docs/telemetry.md).
import { build } from 'esbuild';

export const EXTERNAL = [
  '@datadog/pprof',
  'pino-pretty',
  'piscina',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-trace-otlp-proto',
  'undici',
  'ioredis',
  'yaml',
];

const root = new URL('..', import.meta.url).pathname;

await build({
  absWorkingDir: root,
  entryPoints: { periscope: 'service/src/production.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  // Code behind a dynamic import() (the profiler routes, say) goes into its
  // own chunk and still loads only when first used.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Class and function names as written: they appear in logs and profiles.
  keepNames: true,
  external: EXTERNAL,
  // CommonJS dependencies call require() for Node's built-ins; an ES module
  // has no require of its own.
  banner: {
    js: "import { createRequire as __periscopeRequire } from 'node:module'; const require = __periscopeRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
