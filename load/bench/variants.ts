// The servers the benchmarks compare (bench:overhead, bench:instructions):
// bare Fastify, the service in its profiles, the usual tutorial setup, plus
// any named in BENCH_EXTRA_VARIANTS; and the OTLP sink the exporting ones send
// to, each to a path of its own.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { productionArgs } from '../../scripts/lib/production-command.js';
import { readOtelEnv } from '../../service/src/telemetry/tracing/otel-env.js';
import { REPO_ROOT } from '../lib/service.js';

export const SERVERS = join(REPO_ROOT, 'load/bench/servers');

export interface Variant {
  name: string;
  describe: string;
  args: string[];
  env: Record<string, string>;
}

// What `npm start` and the image run: the production bundle with the production node flags.
const SERVICE = productionArgs();
const QUIET = { LOG_LEVEL: 'warn' };

/** An env value that becomes this run's span sink, at a path named after the variant (see withSink). */
const OTLP_SINK = '$OTLP_SINK';

/** The variant with OTLP_SINK resolved: each variant to its own path on the sink, which counts by path. */
const withSink = (v: Variant, sinkUrl: string): Variant => ({
  ...v,
  env: Object.fromEntries(Object.entries(v.env).map(([k, x]) => [k, x === OTLP_SINK ? `${sinkUrl}/${v.name}` : x])),
});

/**
 * Node flags for the two references (bare Fastify, the tutorial setup), never
 * for the service, which runs exactly as deployed.
 *
 * Between its rounds a reference server sits idle for the other variants'
 * turns, and bare Fastify has no timer of its own. After ~100 s of that, V8's
 * memory reducer runs a memory-reducing mark-compact, which clears the maps
 * its optimized code embeds: the hot HTTP and Fastify functions are
 * deoptimized, re-learn with new maps, and stay slower. Bare Fastify went from
 * ~16 to ~26 µs of user CPU a request for the rest of the run (28-34k →
 * ~22k req/s, p99 spikes past 100 ms), which made every variant look closer
 * to it than it is. The service's once-a-second samplers keep it from idling,
 * so it never gets that collection (`--trace-gc`: no "(reduce)"). With the
 * reducer off, bare Fastify stays at its fresh speed through idle gaps
 * (README, Performance: "The baseline stays fast"). The tutorial setup gets
 * the same flag, so the comparison with it is no easier either.
 */
export const REFERENCE_FLAGS = ['--no-memory-reducer'];

function variants(compileCache: string): Record<string, Variant> {
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_SINK };
  // Every service variant starts with the image's compile cache (Dockerfile).
  const cache = { NODE_COMPILE_CACHE: compileCache };
  return {
    bare: {
      name: 'bare',
      describe: 'bare Fastify, same route',
      args: [...REFERENCE_FLAGS, join(SERVERS, 'bare.mjs')],
      env: {},
    },
    periscope: {
      name: 'periscope',
      describe: 'default profile: metrics + 10% traces (OTLP) + correlated logs',
      args: SERVICE,
      env: { ...cache, ...otlp, LOG_LEVEL: 'info' },
    },
    sampled100: {
      name: 'sampled100',
      describe: 'default profile, 100% sampled and exported',
      args: SERVICE,
      env: { ...cache, ...otlp, OTEL_TRACES_SAMPLER_ARG: '1', LOG_LEVEL: 'info' },
    },
    accesslog: {
      name: 'accesslog',
      describe: 'default profile + ACCESS_LOG=all (a line per request)',
      args: SERVICE,
      env: { ...cache, ...otlp, ACCESS_LOG: 'all', LOG_LEVEL: 'info' },
    },
    notracing: {
      name: 'notracing',
      describe: 'metrics and logs only (OTEL_SDK_DISABLED=true)',
      args: SERVICE,
      env: { ...cache, OTEL_SDK_DISABLED: 'true', ...QUIET },
    },
    profiling: {
      name: 'profiling',
      describe: 'default profile + PROFILING_ENABLED=true, idle',
      args: SERVICE,
      env: {
        ...cache,
        ...otlp,
        LOG_LEVEL: 'info',
        PROFILING_ENABLED: 'true',
        PROFILING_TOKEN: 'bench-token-0123456789',
      },
    },
    tutorial: {
      name: 'tutorial',
      describe: 'NodeSDK + getNodeAutoInstrumentations, OTLP',
      args: [...REFERENCE_FLAGS, '--import', join(SERVERS, 'tutorial-register.mjs'), join(SERVERS, 'tutorial.mjs')],
      env: { ...otlp, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
    },
  };
}

/** A variant whose env asks for OTLP export (so the sink should hear from it), read as the service reads it. */
export const exportsSpans = (v: Variant) => {
  const otel = readOtelEnv(v.env);
  return !otel.disabled && otel.exporters.includes('otlp');
};

type SinkCounts = Record<string, { batches: number; bytes: number }>;

/** Stops the span sink and reads what it received, by variant. */
export async function stopSink(sink: ChildProcess): Promise<SinkCounts> {
  let out = '';
  sink.stdout?.on('data', (c) => {
    out += c;
  });
  const exited = once(sink, 'exit');
  sink.kill('SIGTERM');
  await exited;
  try {
    return JSON.parse(out.trim().split('\n').pop() ?? '{}') as SinkCounts;
  } catch {
    return {};
  }
}

/**
 * The built-in variants plus those in BENCH_EXTRA_VARIANTS, for experiments:
 * '{"name":{"describe":"...","args":["file.mjs"],"env":{...}}}'; an env value
 * "$OTLP_SINK" becomes the run's span sink (its port is picked at run time;
 * the path is the name).
 */
export function allVariants(compileCache: string): Record<string, Variant> {
  const all = variants(compileCache);
  if (process.env.BENCH_EXTRA_VARIANTS) {
    for (const [name, v] of Object.entries(JSON.parse(process.env.BENCH_EXTRA_VARIANTS) as Record<string, Variant>)) {
      all[name] = { ...v, name, env: v.env ?? {} };
    }
  }
  return all;
}

/** The named variants (comma-separated), each with its sink path resolved; an unknown name is an error that lists the known ones. */
export function chooseVariants(all: Record<string, Variant>, names: string, sinkUrl: string): Variant[] {
  return names.split(',').map((n) => {
    const v = all[n.trim()];
    if (!v) throw new Error(`unknown variant ${n}; known: ${Object.keys(all).join(', ')}`);
    return withSink(v, sinkUrl);
  });
}
