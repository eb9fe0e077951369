// Node/Fastify server limits, each chosen on purpose. Everything here bounds
// what one slow or hostile client can hold on to.
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyServerOptions } from 'fastify';
import type { Env } from '../config/env.js';
import { genReqId } from './request-id.js';

/** TRUST_PROXY as Fastify's trustProxy: boolean, hop count or address list. */
export function trustProxy(raw: string): boolean | number | string[] {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^[0-9]+$/.test(raw)) return Number(raw);
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function serverOptions(env: Pick<Env, 'KEEP_ALIVE_TIMEOUT_MS' | 'TRUST_PROXY'>): FastifyHttpOptions<Server> {
  return {
    http: {
      // A client gets 10 s to send its headers: slowloris trickling one header
      // byte at a time is cut off instead of holding a socket for a minute.
      headersTimeout: 10_000,
      // How often Node enforces headersTimeout/requestTimeout (default 30 s,
      // which would let a slow client keep a socket for up to 40 s).
      connectionsCheckingInterval: 1_000,
      // Node's default, stated: larger request headers get 431.
      maxHeaderSize: 16_384,
    },
    // Fastify accepts a hop count at runtime; its types omit number.
    trustProxy: trustProxy(env.TRUST_PROXY) as FastifyServerOptions['trustProxy'],
    // Idle keep-alive sockets live longer than the proxy's own idle timeout
    // (see KEEP_ALIVE_TIMEOUT_MS in config/env.ts), so the proxy closes first.
    keepAliveTimeout: env.KEEP_ALIVE_TIMEOUT_MS,
    // requestTimeout (above) bounds the whole request, body included, at 30 s:
    // enough for a 1 MiB body on a slow mobile link, not for a stalled upload.
    requestTimeout: 30_000,
    // Socket inactivity while a request is in progress: above the longest
    // route deadline, so a handler that is legitimately waiting is not cut,
    // and a client that stops reading its response does not hold the socket
    // and the unsent bytes forever. (An earlier build took 22-31 % more CPU a
    // request with Fastify's default of 0, cause not found; on 2026-12-07 the
    // two were within noise, README Performance.)
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

/**
 * The app server's accept queue: connections the kernel has completed and the
 * event loop has not accepted yet. Node's default (511) overflows when a busy
 * loop meets a burst of new connections — clients reconnecting after a pod
 * restart, or the load tool's `spike` (2,000 at once): the kernel drops the
 * handshake, and the client retries after 1, 3, 7 s. In 4 spike runs the one
 * that overflowed (509 TcpExtListenOverflows) had 207 requests past the
 * generator's 10 s timeout; the others had none (docs/load-testing.md). The
 * kernel caps it at net.core.somaxconn (4096 by default since Linux 5.4, and a
 * per-pod sysctl in Kubernetes).
 */
export const LISTEN_BACKLOG = 4096;

/** Limits Fastify has no option for; applied to the Node server before listen. */
export function tuneHttpServer(server: Server): void {
  // Parse at most 100 header lines (Node's default is 2000); the rest are dropped.
  server.maxHeadersCount = 100;
}
