// The profilers behind /debug/pprof/*. Each takes a window and an AbortSignal
// (the caller hanging up ends the window early and discards the profile) and
// always stops its sampler, whatever happens.
//
//   cpuPprof      V8's CPU sampler via @datadog/pprof: gzipped pprof protobuf,
//                 read by `go tool pprof`, Grafana Pyroscope, speedscope.
//   cpuDevtools   the same sampler via node:inspector: a .cpuprofile JSON for
//                 Chrome DevTools (Performance panel) or speedscope, with the
//                 timeline pprof has no room for. No native code.
//   heapPprof     V8's sampling heap profiler via @datadog/pprof: objects
//                 allocated during the window and still live at its end.
//
// Both CPU formats count a function V8 inlined as part of its caller (V8's
// doing, every Node version), and both would lose Node 24's hot loops without
// the flag set by visible-loops.ts (docs/profiling.md, "What a profile can miss").
//
// @datadog/pprof is a native module; this file is imported only when
// profiling is enabled (see index.ts).
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { encode, heap, SourceMapper, time } from '@datadog/pprof';

/**
 * CPU sampling period: 1 ms, V8's and Chrome DevTools' default (what
 * `node --cpu-prof` and 0x use). A 10 s profile holds up to 10 000 samples —
 * enough to see a function at 1% — and the measured cost while sampling is in
 * docs/profiling.md.
 */
export const CPU_SAMPLE_INTERVAL_US = 1000;
/** Heap sampling: one sample per 512 KiB allocated on average (V8's and Go's default). */
export const HEAP_SAMPLE_INTERVAL_BYTES = 512 * 1024;
export const HEAP_STACK_DEPTH = 64;

export interface SourceMaps {
  /** Resolves once; undefined when the directory has no usable source maps. */
  get(): Promise<SourceMapper | undefined>;
}

/**
 * Source maps turn dist/*.js frames into service/src/*.ts ones. Scanned on the
 * first profile (not at start-up: start-up time matters, a profile can wait
 * a few ms) and kept.
 */
export function sourceMapsFrom(dir: string, onError: (err: unknown) => void): SourceMaps {
  let loaded: Promise<SourceMapper | undefined> | undefined;
  return {
    get() {
      loaded ??= SourceMapper.create([dir]).then(
        (mapper) => (mapper.infoMap.size > 0 ? mapper : undefined),
        (err: unknown) => {
          onError(err);
          return undefined;
        },
      );
      return loaded;
    },
  };
}

export async function cpuPprof(durationMs: number, signal: AbortSignal, sourceMapper?: SourceMapper): Promise<Buffer> {
  // lineNumbers: each sample carries the line it was taken on, so
  // `go tool pprof -lines` points at the hot line, not only the function.
  time.start({ intervalMicros: CPU_SAMPLE_INTERVAL_US, sourceMapper, durationMillis: durationMs, lineNumbers: true });
  try {
    await sleep(durationMs, undefined, { signal });
  } catch (err) {
    time.stop();
    throw err;
  }
  return encode(time.stop());
}

/** The Chrome DevTools CPU profile format (Profiler.Profile in the DevTools protocol), as JSON text. */
export async function cpuDevtools(durationMs: number, signal: AbortSignal): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: CPU_SAMPLE_INTERVAL_US });
    await session.post('Profiler.start');
    try {
      await sleep(durationMs, undefined, { signal });
    } catch (err) {
      await session.post('Profiler.stop');
      throw err;
    }
    const { profile } = await session.post('Profiler.stop');
    return JSON.stringify(profile);
  } finally {
    // Disabling the domain also ends a profile an error left running.
    await session.post('Profiler.disable').catch(() => {});
    session.disconnect();
  }
}

export async function heapPprof(durationMs: number, signal: AbortSignal, sourceMapper?: SourceMapper): Promise<Buffer> {
  heap.start(HEAP_SAMPLE_INTERVAL_BYTES, HEAP_STACK_DEPTH);
  try {
    await sleep(durationMs, undefined, { signal });
    return await encode(heap.profile(undefined, sourceMapper));
  } finally {
    heap.stop();
  }
}
