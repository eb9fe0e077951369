// GET /api/sleep?ms=10 — waits, then answers: the classic I/O-bound handler
// (a database or an upstream call stands in for the timer). The load tests'
// c10k scenario uses it: thousands of requests wait at once, none uses CPU.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';
import { requestSignal } from '../../http/request-signal.js';

export const MAX_SLEEP_MS = 10_000;

const sleepRoute: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { ms: number } }>(
    '/api/sleep',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_SLEEP_MS, default: 10 } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { slept_ms: { type: 'integer' } }, required: ['slept_ms'] },
        },
      },
    },
    async (request, reply) => {
      const { ms } = request.query;
      // The client going away ends the wait early (no point finishing for nobody).
      // try/catch rather than .catch(() => {}): no extra closure and promise per parked request.
      try {
        await sleep(ms, undefined, { signal: requestSignal(reply) });
      } catch {
        // aborted: the response already closed
      }
      return { slept_ms: ms };
    },
  );
};

export default sleepRoute;
