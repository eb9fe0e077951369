// The admin server (ADMIN_PORT): probes, metrics and debug endpoints. Never
// behind the public Service or Ingress; the kubelet and Prometheus reach it
// on the pod IP. A separate Fastify instance, so app hooks (auth, shedding,
// rate limits) never touch a probe and an app route is never served here.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import debug from './admin/debug/index.js';
import metricsRoute from './admin/metrics.js';
import probes from './admin/probes.js';
import type { ServiceContext } from './context.js';
import errorHandler from './plugins/error-handler.js';

export interface AdminOptions {
  /** Where the running JavaScript and its source maps are (profiles name TypeScript frames with them). */
  codeDir?: string;
}

export async function buildAdmin(ctx: ServiceContext, opts: AdminOptions = {}): Promise<FastifyInstance> {
  const admin = Fastify({
    loggerInstance: ctx.logger.child({ server: 'admin' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'req_id' }),
    // Probes are tiny and frequent; a scrape must not hold a socket for long.
    keepAliveTimeout: ctx.env.KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: 60_000,
    forceCloseConnections: true,
    return503OnClosing: false,
  });
  await admin.register(errorHandler);
  await admin.register(probes, {
    lifecycle: ctx.lifecycle,
    health: ctx.health,
    details: () => ({ config_hash: ctx.runtimeConfig.hash }),
  });
  await admin.register(metricsRoute, { registry: ctx.telemetry.metrics.registry });
  await admin.register(debug, {
    enabled: ctx.env.PROFILING_ENABLED,
    token: ctx.env.PROFILING_TOKEN,
    sourceMapDir: opts.codeDir,
  });
  return admin;
}
