// An AbortSignal for a request's work, bound to its response: it aborts when
// the response closes — the client hung up, or a deadline or error already
// answered — so nothing keeps computing or calling upstreams for nobody.
//
// Why not Fastify's `request.signal`: in Fastify 5.12 it listens for the
// *request* stream's `close`, which Node emits as soon as a request body has
// been read; with a route `handlerTimeout` every POST's signal is aborted
// before its handler runs, and without one a client that hangs up later is
// not noticed. The response's `close` has neither problem.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

const kController = Symbol('periscope.responseSignal');

type Res = ServerResponse & { [kController]?: AbortController };

export class ResponseClosedError extends Error {
  override name = 'AbortError';
  constructor(readonly clientGone: boolean) {
    super(clientGone ? 'client closed the connection' : 'response already sent');
  }
}

// One reason of each kind, shared by every request: the signal of every
// request that asked for one is aborted when its response closes, most of them
// after a normal answer, and capturing a fresh stack each time cost more than
// the rest of the signal (~6 µs against ~1 on this VM, Node 24). The stack
// would only point at the 'close' event anyway.
const CLIENT_GONE = new ResponseClosedError(true);
const RESPONSE_SENT = new ResponseClosedError(false);

/**
 * The one `close` listener of every response that asked for a signal (`this`
 * is the response): no closure and no `once` wrapper per request. A request
 * parked on I/O keeps what it allocated alive, and at 10,000 connections the
 * garbage collector copies every parked request's objects (docs/load-testing.md).
 * A response closes once, so `on` is enough.
 */
function abortOnClose(this: Res): void {
  this[kController]?.abort(this.writableEnded ? RESPONSE_SENT : CLIENT_GONE);
}

export function requestSignal(reply: FastifyReply): AbortSignal {
  const res = reply.raw as Res;
  let ac = res[kController];
  if (ac) return ac.signal;
  ac = new AbortController();
  res[kController] = ac;
  if (res.closed) abortOnClose.call(res);
  else res.on('close', abortOnClose);
  return ac.signal;
}
