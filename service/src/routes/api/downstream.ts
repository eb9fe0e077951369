// GET /api/downstream — calls DOWNSTREAM_URL through the pooled client and
// its circuit breaker (resilience/downstream.ts), within a 3 s deadline.
// The request's AbortSignal reaches the upstream call: a client that hangs up,
// or a deadline that expires, releases the upstream socket too.
import type { FastifyPluginAsync } from 'fastify';
import { requestSignal } from '../../http/request-signal.js';
import type { Downstream } from '../../resilience/downstream.js';

export interface DownstreamRouteOptions {
  downstream: Downstream | undefined;
}

export const DOWNSTREAM_DEADLINE_MS = 3_000;

const downstreamRoute: FastifyPluginAsync<DownstreamRouteOptions> = async (app, { downstream }) => {
  app.get(
    '/api/downstream',
    { handlerTimeout: DOWNSTREAM_DEADLINE_MS, config: { rateLimit: {} } },
    async (_request, reply) => {
      if (!downstream) {
        throw Object.assign(new Error('DOWNSTREAM_URL is not configured'), { statusCode: 503, expose: true });
      }
      const result = await downstream.get(requestSignal(reply));
      if (result.source === 'stale') reply.header('warning', '110 - "stale: upstream circuit open"');
      reply.header('x-downstream-source', result.source);
      return { upstream_status: result.status, source: result.source, fetched_at: result.fetchedAt, body: result.body };
    },
  );
};

export default downstreamRoute;
