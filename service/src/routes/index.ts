// Every application route, registered in one place. Add yours here: one file
// per route (or per small group) under routes/, each an encapsulated plugin so
// its hooks and decorators stay its own.
import type { FastifyPluginAsync } from 'fastify';
import type { Downstream } from '../resilience/downstream.js';
import type { WorkerPool } from '../resilience/worker-pool.js';
import type { TransformResult, TransformTask } from '../workers/transform.js';
import downstreamRoute from './api/downstream.js';
import echoRoute from './api/echo.js';
import privateRoute from './api/private.js';
import reportRoute from './api/report.js';
import sleepRoute from './api/sleep.js';
import workRoute from './api/work.js';
import root from './root.js';

export interface RoutesOptions {
  authTokens: readonly string[];
  downstream: Downstream | undefined;
  workerPool: WorkerPool<TransformTask, TransformResult>;
}

const routes: FastifyPluginAsync<RoutesOptions> = async (app, opts) => {
  await app.register(root);
  await app.register(sleepRoute);
  await app.register(echoRoute);
  await app.register(reportRoute);
  await app.register(privateRoute, { tokens: opts.authTokens });
  await app.register(downstreamRoute, { downstream: opts.downstream });
  await app.register(workRoute, { pool: opts.workerPool });
};

export default routes;
