// The application server (PORT): built from a context, never listening by
// itself, so tests drive exactly what production runs.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServiceContext } from './context.js';
import { serverOptions, tuneHttpServer } from './http/server-options.js';
import { validationOptions } from './http/validation.js';
import connectionDrain from './plugins/connection-drain.js';
import errorHandler from './plugins/error-handler.js';
import admissionControl, { appAdmissionControl } from './resilience/admission-control.js';
import { Downstream } from './resilience/downstream.js';
import loadShedding from './resilience/load-shedding.js';
import rateLimit from './resilience/rate-limit.js';
import { zeroRouteCounters } from './resilience/route-counters.js';
import { WorkerPool } from './resilience/worker-pool.js';
import routes from './routes/index.js';
import type { TransformResult, TransformTask } from './workers/transform.js';

export async function buildApp(ctx: ServiceContext): Promise<FastifyInstance> {
  const { resilience, onCollect } = ctx.telemetry.metrics;
  // Reads the telemetry's in-flight count; the telemetry tells it when a response closes.
  const admission = appAdmissionControl(ctx.runtimeConfig, ctx.telemetry.metrics);
  const telemetry = ctx.telemetry.httpServer(ctx.env, ctx.logger, admission);
  const app = Fastify({
    ...serverOptions(ctx.env),
    ...validationOptions,
    ...telemetry.fastifyOptions(),
  });
  // Fastify has no logger of its own (why: HttpServerTelemetry.fastifyOptions);
  // `app.log`, which plugins and Fastify's own messages use, is the process logger.
  app.log = ctx.logger as FastifyBaseLogger;
  tuneHttpServer(app.server);
  // Before any route: every route registered after this gets its span,
  // metrics and access log (telemetry/http-server.ts).
  app.addHook('onRoute', telemetry.onRoute);
  app.addHook('onRoute', zeroRouteCounters(resilience));

  // Cross-cutting plugins (fastify-plugin: they apply to every route).
  await app.register(connectionDrain, { lifecycle: ctx.lifecycle });
  await app.register(admissionControl, { admission, lifecycle: ctx.lifecycle });
  await app.register(errorHandler, { deadlineExceeded: resilience.deadlineExceeded });
  await app.register(loadShedding, { runtimeConfig: ctx.runtimeConfig, shed: resilience.shed, logger: ctx.logger });
  await app.register(rateLimit, {
    runtimeConfig: ctx.runtimeConfig,
    rateLimited: resilience.rateLimited,
    logger: ctx.logger,
  });

  // Resources the routes share, closed with the server.
  const downstream = ctx.env.DOWNSTREAM_URL
    ? await Downstream.create({
        url: ctx.env.DOWNSTREAM_URL,
        logger: ctx.logger,
        breakerState: resilience.breakerState,
        breakerCalls: resilience.breakerCalls,
        health: ctx.health,
      })
    : undefined;
  const workerPool = new WorkerPool<TransformTask, TransformResult>({
    name: 'transform',
    worker: '../workers/transform.js',
    threads: ctx.env.WORKER_THREADS,
    maxQueue: ctx.env.WORKER_QUEUE_MAX,
    queue: resilience.poolQueue,
    utilization: resilience.poolUtilization,
    tasks: resilience.poolTasks,
    onCollect,
  });
  app.addHook('onClose', async () => {
    await Promise.all([downstream?.close(), workerPool.close()]);
  });

  // Then the routes. Nothing here is served on the admin port.
  await app.register(routes, { authTokens: splitTokens(ctx.env.AUTH_TOKENS), downstream, workerPool });
  return app;
}

function splitTokens(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}
