// Node/Fastify server limits, each chosen on purpose. Everything here bounds
// what one slow or hostile client can hold on to.
import type { Server } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import type { Env } from '../config/env.js';
import { genReqId } from './request-id.js';

export function serverOptions(env: Pick<Env, 'KEEP_ALIVE_TIMEOUT_MS'>): FastifyServerOptions {
  return {
    // Idle keep-alive sockets live longer than the proxy's own idle timeout
    // (see KEEP_ALIVE_TIMEOUT_MS in config/env.ts), so the proxy closes first.
    keepAliveTimeout: env.KEEP_ALIVE_TIMEOUT_MS,
    // requestTimeout (above) bounds the whole request, body included, at 30 s:
    // enough for a 1 MiB body on a slow mobile link, not for a stalled upload.
    requestTimeout: 30_000,
    // Socket inactivity while a request is in progress: above the longest
    // route deadline, so a handler that is legitimately waiting is not cut.
    connectionTimeout: 60_000,
    // 1 MiB bodies: the JSON examples need far less; raise per route, not here.
    bodyLimit: 1_048_576,
    // Idle keep-alive sockets are closed at once on shutdown; busy ones get
    // `Connection: close` on their last response.
    forceCloseConnections: 'idle',
    // Requests that arrive on a kept-alive socket after close() begins get a
    // 503 with `Connection: close` (clients retry elsewhere) instead of a
    // reset connection.
    return503OnClosing: true,
    // Ids are validated by genReqId (request-id.ts), never taken raw.
    requestIdHeader: false,
    genReqId,
    // Fastify's own two log lines per request (cost: ~35% of throughput,
    // DESIGN.md) are off; the access log follows ACCESS_LOG instead. Both are
    // set by the LogController in telemetry/http-server.ts.
    // Query strings and paths are case-sensitive, `/a/` is `/a`.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  };
}

/** Limits Fastify has no option for; applied to the Node server before listen. */
export function tuneHttpServer(server: Server): void {
  // A client gets 10 s to send its headers: slowloris trickling one header
  // byte at a time is cut off instead of holding a socket for a minute.
  server.headersTimeout = 10_000;
  // At most 100 header lines (Node's default is 2000); header bytes are
  // bounded by Node's 16 KiB maxHeaderSize, beyond which the client gets 431.
  server.maxHeadersCount = 100;
}
