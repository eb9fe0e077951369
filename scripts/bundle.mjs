#!/usr/bin/env node
// Bundles the service for production: service/src/production.ts and
// everything it imports → dist/bundle/periscope.js (+ chunks for what loads
// later, + the span exporters, + source maps). Run by `npm run build` after tsc.
//
// Why: resolving and compiling ~500 separate modules was most of the
// start-up time; one bundle gets to ready in about two thirds of it
// (README, Performance). The bundle is unminified and source-mapped, so its
// stack traces and profiles stay readable (`NODE_OPTIONS=--enable-source-maps`
// maps stacks to the TypeScript sources).
//
// External (loaded from node_modules at run time):
//   - native or development-only modules: @datadog/pprof, pino-pretty;
//   - piscina, which starts its worker threads from a file next to its own
//     (__dirname): bundled, it would look for that file in dist/bundle/;
//   - modules imported only on demand (undici, ioredis). Tried as lazy
//     chunks of the bundle: undici's Pool came back undefined through
//     esbuild's ESM/CommonJS interop (infra/test caught it).
// `yaml` (for a YAML CONFIG_FILE, which the chart always sets) is a lazy chunk:
// one file in the compile cache instead of ~70 resolved from node_modules, ~25 ms
// of a pod's start; config/runtime-config.ts reads its parse() through the
// interop, and the container test checks a YAML file is parsed as YAML.
// An OpenTelemetry instrumentation that patches a module when it is required
// cannot see a bundled copy: add that module here, or run the unbundled
// `node --import ./dist/telemetry/register.js dist/main.js` (docs/telemetry.md).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

export const EXTERNAL = ['@datadog/pprof', 'pino-pretty', 'piscina', 'undici', 'ioredis'];

/**
 * The OTLP span exporters, each built into a CommonJS file of its own (below):
 * import specifier in service/src/telemetry/tracing/provider.ts → file.
 * The protobuf one is the service's own (the package's with a faster encoder).
 */
const EXPORTERS = {
  './otlp-proto-exporter.js': 'otlp-exporter-proto',
  '@opentelemetry/exporter-trace-otlp-http': 'otlp-exporter-http',
};
/** Where an exporter's module is, for the build of its file. */
const exporterSource = (specifier) =>
  specifier.startsWith('./')
    ? `./service/src/telemetry/tracing/${specifier.slice(2).replace(/\.js$/, '.ts')}`
    : specifier;

const root = new URL('..', import.meta.url).pathname;
const outdir = 'dist/bundle';

// Chunk names are content hashes: without this, old ones pile up.
rmSync(new URL(`../${outdir}`, import.meta.url), { recursive: true, force: true });

/** Shared by both builds. */
const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // No keepNames: it wraps every function created at run time in a
  // defineProperty call (__name), per request inside Fastify's hook runner and
  // reply, and that cost ~8 µs of CPU a request (a fifth; README, Performance).
  // Without it, only identifiers esbuild renames on a collision in the bundle's
  // scope (createLogger2, pino2, ...) show the suffix in stacks and profiles;
  // --enable-source-maps maps stacks back to the sources.
  keepNames: false,
  // The packages' ES module builds where they ship one: esbuild can drop
  // what is never used from those (the semantic-conventions tables, ~200 KB of
  // the bundle; the exporter's metrics and logs serialisers and
  // @opentelemetry/sdk-metrics, ~590 KB of the exporter), not from CommonJS.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

// 1. The span exporters. Loaded right after ready (telemetry/tracing/
// deferred-exporter.ts); from node_modules (~150 modules) that held the event
// loop ~120 ms, and as this file ~15 ms. CommonJS files, not chunks of the
// ES module bundle: as a chunk, esbuild's interop lost every span (the Jaeger
// test caught it). The entry is a one-line ES module re-exporting the class,
// so esbuild writes the CommonJS exports in the form Node's import() can name.
const exporterEntries = {
  name: 'exporter-entries',
  setup(b) {
    b.onResolve({ filter: /^exporter-entry:/ }, (args) => ({
      path: args.path.slice('exporter-entry:'.length),
      namespace: 'exporter-entry',
    }));
    b.onLoad({ filter: /.*/, namespace: 'exporter-entry' }, (args) => ({
      contents: `export { OTLPTraceExporter } from '${args.path}';`,
      resolveDir: root,
    }));
  },
};
// The protobuf exporter's worker thread (telemetry/tracing/otlp-export-worker.ts)
// is a file of its own next to them, found through import.meta.url, which a
// CommonJS file gets from its own __filename.
await build({
  ...common,
  entryPoints: {
    ...Object.fromEntries(
      Object.entries(EXPORTERS).map(([specifier, file]) => [file, `exporter-entry:${exporterSource(specifier)}`]),
    ),
    'otlp-export-worker': './service/src/telemetry/tracing/otlp-export-worker.ts',
  },
  plugins: [exporterEntries],
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: { 'import.meta.url': '__periscopeModuleUrl' },
  banner: { js: "const __periscopeModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// 2. The service. Its import() of an exporter package becomes an import()
// of the file built above, next to it.
const exportersPrebuilt = {
  name: 'exporters-prebuilt',
  setup(b) {
    const specifiers = Object.keys(EXPORTERS).map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${specifiers.join('|')})$`) }, (args) => ({
      path: `./${EXPORTERS[args.path]}.cjs`,
      external: true,
    }));
  },
};
await build({
  ...common,
  entryPoints: { periscope: 'service/src/production.ts' },
  plugins: [exportersPrebuilt],
  // Code behind a dynamic import() (the profiler routes, say) goes into its
  // own chunk and still loads only when first used.
  splitting: true,
  format: 'esm',
  external: EXTERNAL,
  // CommonJS dependencies call require() for Node's built-ins; an ES module
  // has no require of its own.
  banner: {
    js: "import { createRequire as __periscopeRequire } from 'node:module'; const require = __periscopeRequire(import.meta.url);",
  },
});
