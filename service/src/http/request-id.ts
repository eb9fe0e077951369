// Request ids: honour the caller's `x-request-id` when it is safe to echo and
// log, otherwise mint a new one. A header that is too long or carries
// characters outside the safe set is replaced, never truncated or escaped: a
// half-kept id would correlate with nothing.
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

// Minted ids are UUID v4 (RFC 9562), as crypto.randomUUID() makes them, from
// the same source (crypto.randomFillSync) — but made 256 at a time: one fill,
// the 256 ids written side by side into a buffer, one string read out of it,
// and each id a slice of that string. randomUUID() concatenates its 36
// characters piece by piece and V8 keeps the result as a tree of 14 cons
// strings; the id lives as long as the request (log bindings, response
// header), so a request parked on I/O held ~450 B of string tree for the
// garbage collector to copy (heap snapshots with 5,000 parked requests,
// docs/load-testing.md). A slice is one small object over the shared block,
// and costs no call into C++ per request (the pooled trace ids do the same:
// telemetry/tracing/pooled-id-generator.ts).
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const IDS_PER_FILL = 256;
const UUID_CHARS = 36;
const random = Buffer.allocUnsafe(16 * IDS_PER_FILL);
const text = Buffer.allocUnsafe(UUID_CHARS * IDS_PER_FILL);
let block = '';
let next = IDS_PER_FILL;

// Where each of an id's 16 bytes goes in its 36 characters (dashes at 8, 13, 18, 23).
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
for (let o = 0; o < text.length; o += UUID_CHARS) {
  for (const dash of [8, 13, 18, 23]) text[o + dash] = 0x2d;
}

function refill(): void {
  randomFillSync(random);
  for (let r = 0; r < random.length; r += 16) {
    random[r + 6] = ((random[r + 6] as number) & 0x0f) | 0x40; // version 4
    random[r + 8] = ((random[r + 8] as number) & 0x3f) | 0x80; // variant 10xx
  }
  for (let id = 0, r = 0; id < IDS_PER_FILL; id++) {
    const base = id * UUID_CHARS;
    for (let i = 0; i < 16; i++, r++) {
      const b = random[r] as number;
      const o = base + (AT[i] as number);
      text[o] = HEX[b >> 4] as number;
      text[o + 1] = HEX[b & 0x0f] as number;
    }
  }
  block = text.toString('latin1');
  next = 0;
}

export function uuidV4(): string {
  if (next === IDS_PER_FILL) refill();
  const o = UUID_CHARS * next++;
  return block.slice(o, o + UUID_CHARS);
}

/** Fastify `genReqId`: called once per request, before any hook. */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return isSafeRequestId(incoming) ? incoming : uuidV4();
}
