// Trace and span ids from a pool of cryptographically random hex.
//
// The SDK's RandomIdGenerator calls Math.random() per 4 bytes and hex-encodes
// every id on its own; it was the largest single cost of starting a span (a
// third of it) in the request profile. Here one randomFillSync fills 4 KiB,
// hex-encoded once, enough for ~170 requests' trace + span ids, and each id is
// a slice of that string. Ids stay W3C-valid: never all zeros.
//
// A root trace id can come with its ratio-sampling hash (rootTraceId), read
// from the same random bytes: see tracing/server-span.ts for why.
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

const POOL_BYTES = 4096;
const POOL_CHARS = POOL_BYTES * 2;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export class PooledIdGenerator implements IdGenerator {
  readonly #bytes = Buffer.allocUnsafe(POOL_BYTES);
  #hex = '';
  #offset = POOL_CHARS;

  #take(chars: number): string {
    if (this.#offset + chars > POOL_CHARS) {
      randomFillSync(this.#bytes);
      this.#hex = this.#bytes.toString('hex');
      this.#offset = 0;
    }
    const id = this.#hex.slice(this.#offset, this.#offset + chars);
    this.#offset += chars;
    // 2^-64 at worst, but an all-zero id is invalid by the W3C spec.
    if (id === ZERO_TRACE || id === ZERO_SPAN) return `${id.slice(0, -1)}1`;
    return id;
  }

  #preset: string | undefined;

  /** The next generateTraceId() returns this id (see tracing/server-span.ts). */
  presetTraceId(id: string): void {
    this.#preset = id;
  }

  generateTraceId = (): string => {
    const preset = this.#preset;
    if (preset !== undefined) {
      this.#preset = undefined;
      return preset;
    }
    return this.#take(32);
  };

  generateSpanId = (): string => this.#take(16);

  /**
   * A new trace id (never the preset one) and, in `rootTraceHash`, the value
   * the SDK's TraceIdRatioBasedSampler computes from it: the XOR of its four
   * big-endian 32-bit words. Read from the random bytes the hex was made of,
   * it costs four loads instead of parsing 32 hex characters (and the
   * W3C-validity regex) per request. -1 when the id had to be patched (the
   * all-zero case): then the caller asks the sampler.
   */
  rootTraceId(): string {
    const id = this.#take(32);
    const b = this.#bytes;
    const o = (this.#offset - 32) >> 1;
    const w0 = b.readUInt32BE(o);
    const w1 = b.readUInt32BE(o + 4);
    const w2 = b.readUInt32BE(o + 8);
    const w3 = b.readUInt32BE(o + 12);
    this.rootTraceHash = (w0 | w1 | w2 | w3) === 0 ? -1 : (w0 ^ w1 ^ w2 ^ w3) >>> 0;
    return id;
  }

  /** See rootTraceId(). */
  rootTraceHash = -1;
}
