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
// the same source (crypto.randomFillSync, here 256 ids per call) — but as one
// flat string. randomUUID() concatenates its 36 characters piece by piece and
// V8 keeps the result as a tree of 14 cons strings; the id lives as long as the
// request (log bindings, response header), so a request parked on I/O held
// ~450 B of string tree for the garbage collector to copy, ~4% of all it held
// (heap snapshots with 5,000 parked requests, docs/load-testing.md). Here the
// characters are written into a buffer and read out in one piece.
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const IDS_PER_FILL = 256;
const random = Buffer.allocUnsafe(16 * IDS_PER_FILL);
let next = random.length;
const text = Buffer.allocUnsafe(36);

export function uuidV4(): string {
  if (next === random.length) {
    randomFillSync(random);
    next = 0;
  }
  const r = next;
  next += 16;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (o === 8 || o === 13 || o === 18 || o === 23) text[o++] = 0x2d; // '-'
    let b = random[r + i] as number;
    if (i === 6)
      b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10xx
    text[o++] = HEX[b >> 4] as number;
    text[o++] = HEX[b & 0x0f] as number;
  }
  return text.toString('latin1', 0, 36);
}

/** Fastify `genReqId`: called once per request, before any hook. */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return isSafeRequestId(incoming) ? incoming : uuidV4();
}
