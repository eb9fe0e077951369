// Request ids: honour the caller's `x-request-id` when it is safe to echo and
// log, otherwise mint a new one. A header that is too long or carries
// characters outside the safe set is replaced, never truncated or escaped: a
// half-kept id would correlate with nothing.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

/** Fastify `genReqId`: called once per request, before any hook. */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return isSafeRequestId(incoming) ? incoming : randomUUID();
}
