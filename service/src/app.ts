// The application server (PORT): built from a context, never listening by
// itself, so tests drive exactly what production runs.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServiceContext } from './context.js';
import { serverOptions, tuneHttpServer } from './http/server-options.js';
import { validationOptions } from './http/validation.js';
import connectionDrain from './plugins/connection-drain.js';
import errorHandler from './plugins/error-handler.js';
import routes from './routes/index.js';

export async function buildApp(ctx: ServiceContext): Promise<FastifyInstance> {
  const telemetry = ctx.telemetry.httpServer(ctx.env);
  const app = Fastify({
    ...serverOptions(ctx.env),
    ...validationOptions,
    ...telemetry.fastifyOptions(),
    loggerInstance: ctx.logger as FastifyBaseLogger,
  });
  tuneHttpServer(app.server);
  // Before any route: every route registered after this gets its span,
  // metrics and access log (telemetry/http-server.ts).
  app.addHook('onRoute', telemetry.onRoute);

  // Cross-cutting plugins first (fastify-plugin: they apply to every route).
  await app.register(connectionDrain, { lifecycle: ctx.lifecycle });
  await app.register(errorHandler);

  // Then the routes. Nothing here is served on the admin port.
  await app.register(routes, { authTokens: splitTokens(ctx.env.AUTH_TOKENS) });
  return app;
}

function splitTokens(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}
