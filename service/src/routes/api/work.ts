// POST /api/work — CPU-heavy work of bounded size, run on the worker pool
// (resilience/worker-pool.ts) so the event loop stays free. Bounded twice:
// by the schema (text ≤ 64 KiB, rounds ≤ 500) and by the pool's queue
// (full → 503 + Retry-After), within a 5 s deadline.
import type { FastifyPluginAsync } from 'fastify';
import { requestSignal } from '../../http/request-signal.js';
import type { WorkerPool } from '../../resilience/worker-pool.js';
import type { TransformResult, TransformTask } from '../../workers/transform.js';

export interface WorkRouteOptions {
  pool: WorkerPool<TransformTask, TransformResult>;
}

export const WORK_DEADLINE_MS = 5_000;

const workRoute: FastifyPluginAsync<WorkRouteOptions> = async (app, { pool }) => {
  app.post<{ Body: TransformTask }>(
    '/api/work',
    {
      handlerTimeout: WORK_DEADLINE_MS,
      config: { rateLimit: {} },
      bodyLimit: 128 * 1024,
      schema: {
        body: {
          type: 'object',
          properties: {
            text: { type: 'string', minLength: 1, maxLength: 65_536 },
            rounds: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
          required: ['text'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const result = await pool.run({ text: request.body.text, rounds: request.body.rounds }, requestSignal(reply));
      return { ...result, worker_ms: Math.round(result.worker_ms * 100) / 100 };
    },
  );
};

export default workRoute;
