// Counts responses, statuses, errors and latencies for a stretch of time.
//
// Latencies go into an HdrHistogram in microseconds (autocannon's own
// histogram is in whole milliseconds, too coarse for a sub-millisecond hello
// route). One recorder per phase (its summary) and one per second (the time
// series); each response is recorded in both, which costs a few hundred
// nanoseconds per response. The run's total is the sum of its phases.
import hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../types.js';

const US_PER_MS = 1000;

function newHistogram() {
  // 1 µs to 10 min with 3 significant digits; the JS (not WebAssembly)
  // implementation so histograms can be created and dropped freely.
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Node's error codes are what an operator can act on; anything else keeps its message. */
export function errorKind(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const message = (err as { message?: unknown }).message;
    if (message === 'request timed out') return 'timeout';
    if (typeof message === 'string' && message) return message.slice(0, 60);
  }
  return 'unknown';
}

export class Recorder {
  #hist = newHistogram();
  responses = 0;
  bytes = 0;
  status: Record<string, number> = {};
  errors: Record<string, number> = {};

  response(statusCode: number, bytes: number, latencyMs: number): void {
    this.responses++;
    this.bytes += bytes;
    const key = String(statusCode);
    this.status[key] = (this.status[key] ?? 0) + 1;
    // At least 1 µs: a 0 would fall below the histogram's lowest value.
    this.#hist.recordValue(Math.max(1, Math.round(latencyMs * US_PER_MS)));
  }

  error(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  get errorCount(): number {
    let n = 0;
    for (const v of Object.values(this.errors)) n += v;
    return n;
  }

  /** Responses that were not 2xx plus requests that got no response. */
  get failures(): number {
    let n = this.errorCount;
    for (const [code, count] of Object.entries(this.status)) if (code[0] !== '2') n += count;
    return n;
  }

  latency(): LatencySummary {
    const h = this.#hist;
    if (h.totalCount === 0) return { mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const ms = (us: number) => Math.round((us / US_PER_MS) * 1000) / 1000;
    return {
      mean: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }

  /** Adds another recorder's counts into this one (the run's total is the sum of its phases). */
  add(other: Recorder): void {
    this.#hist.add(other.#hist);
    this.responses += other.responses;
    this.bytes += other.bytes;
    for (const [k, v] of Object.entries(other.status)) this.status[k] = (this.status[k] ?? 0) + v;
    for (const [k, v] of Object.entries(other.errors)) this.errors[k] = (this.errors[k] ?? 0) + v;
  }

  reset(): void {
    this.#hist.reset();
    this.responses = 0;
    this.bytes = 0;
    this.status = {};
    this.errors = {};
  }
}
