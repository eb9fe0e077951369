// Per-client rate limiting with @fastify/rate-limit, for the routes that opt
// in with `config: { rateLimit: {} }` (the expensive ones: see routes/api/).
// Cheap routes (/, /api/sleep) carry no limiter and pay nothing for it.
//
// The client key is the client IP (`request.ip`, which honours TRUST_PROXY for
// X-Forwarded-For behind an ingress). Limits come from the runtime config in
// force (CONFIG_FILE, hot-reloaded). Answers 429 with the IETF RateLimit
// header fields (RateLimit-Limit/-Remaining/-Reset) and Retry-After.
//
// Counters live in memory by default: each pod limits on its own, so the
// effective limit is max × replicas. With `rateLimit.store: redis` and a
// `redisUrl`, all pods share one counter per client (read at start-up).
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { Counter } from 'prom-client';
import type { RuntimeConfigStore } from '../config/runtime-config.js';
import type { Logger } from '../logging/logger.js';

export interface RateLimitOptions {
  runtimeConfig: RuntimeConfigStore;
  rateLimited: Counter<'http_route'>;
  logger: Logger;
}

export class RateLimitedError extends Error {
  readonly statusCode = 429;
  readonly code = 'RATE_LIMITED';
  constructor(after: string) {
    super(`rate limit exceeded, retry in ${after}`);
  }
}

export default fp<RateLimitOptions>(
  async (app, { runtimeConfig, rateLimited, logger }) => {
    const { store, redisUrl } = runtimeConfig.current.rateLimit;
    let redis: import('ioredis').Redis | undefined;
    if (store === 'redis' && redisUrl) {
      const { Redis } = await import('ioredis');
      // Fail fast and visibly: a limiter that cannot reach its store lets
      // requests through (skipOnError below) rather than failing them.
      redis = new Redis(redisUrl, { connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false });
      redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'rate-limit store (redis) error'));
      app.addHook('onClose', async () => {
        redis?.disconnect();
      });
    }
    runtimeConfig.onChange((next, prev) => {
      if (next.rateLimit.store !== prev.rateLimit.store || next.rateLimit.redisUrl !== prev.rateLimit.redisUrl) {
        logger.warn('rateLimit.store and rateLimit.redisUrl take effect at the next restart');
      }
    });

    await app.register(rateLimit, {
      global: false,
      enableDraftSpec: true,
      max: () => runtimeConfig.current.rateLimit.max,
      timeWindow: () => runtimeConfig.current.rateLimit.timeWindowMs,
      ...(redis ? { redis, nameSpace: 'periscope-rl-', skipOnError: true } : {}),
      onExceeded: (request) => {
        rateLimited.inc({ http_route: request.routeOptions.url ?? 'unmatched' });
      },
      errorResponseBuilder: (_request, context) => new RateLimitedError(context.after),
    });
  },
  { name: 'rate-limit' },
);
