// Load shedding: when the process is overloaded, answer app requests with a
// fast 503 + Retry-After instead of queueing them into timeouts.
//
// @fastify/under-pressure samples the signals (event-loop delay, event-loop
// utilization over the last interval, heap, RSS) once per second. The
// thresholds are compared here, per request, against the runtime config in
// force, so an operator can retune them by editing the ConfigMap; under-pressure's
// own thresholds are fixed at registration and its check reads
// `request.routeOptions` (an allocation) on every request.
//
// Only the app server sheds. Probes and /metrics live on the admin server and
// always answer, and readiness does not flip under load: a pod that reports
// "not ready" because it is busy moves its traffic onto the other pods, which
// are busy for the same reason, and the whole service falls over one pod at
// a time. Shedding keeps each pod serving what it can.
import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import fp from 'fastify-plugin';
import type { Counter } from 'prom-client';
import type { RuntimeConfigStore } from '../config/runtime-config.js';
import type { Logger } from '../logging/logger.js';

export type ShedReason = 'event_loop_delay' | 'event_loop_utilization' | 'heap' | 'rss';

export interface LoadSheddingOptions {
  runtimeConfig: RuntimeConfigStore;
  shed: Counter<'reason'>;
  logger: Logger;
  /** Sampling interval of the pressure signals (ms). */
  sampleIntervalMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Why the next app request would be shed right now, or undefined. */
    pressure(): ShedReason | undefined;
  }
}

export class OverloadedError extends Error {
  readonly statusCode = 503;
  readonly code = 'OVERLOADED';
  readonly expose = true;
  readonly quiet = true;
  constructor(readonly reason: ShedReason) {
    super(`server overloaded (${reason.replaceAll('_', ' ')}); retry shortly`);
  }
}

/** One shared error per reason: shedding must stay cheap (no stack capture per refused request). */
const OVERLOADED: Record<ShedReason, OverloadedError> = {
  event_loop_delay: new OverloadedError('event_loop_delay'),
  event_loop_utilization: new OverloadedError('event_loop_utilization'),
  heap: new OverloadedError('heap'),
  rss: new OverloadedError('rss'),
};

export default fp<LoadSheddingOptions>(
  async (app, { runtimeConfig, shed, logger, sampleIntervalMs = 1000 }) => {
    // No thresholds here: under-pressure only samples (memoryUsage()).
    await app.register(underPressure, { sampleInterval: sampleIntervalMs, eventLoopUtilizationMode: 'interval' });
    const heapLimit = getHeapStatistics().heap_size_limit;
    for (const reason of ['event_loop_delay', 'event_loop_utilization', 'heap', 'rss'] as const)
      shed.inc({ reason }, 0);

    // The signals change once per sampling interval, so the verdict is worked
    // out then (and when the thresholds change), not on every request: the
    // hook below only reads it.
    const judge = (): ShedReason | undefined => {
      const t = runtimeConfig.current.shedding;
      const m = app.memoryUsage();
      if (t.maxEventLoopDelayMs > 0 && m.eventLoopDelay > t.maxEventLoopDelayMs) return 'event_loop_delay';
      if (t.maxEventLoopUtilization > 0 && m.eventLoopUtilized > t.maxEventLoopUtilization) {
        return 'event_loop_utilization';
      }
      if (t.maxHeapUsedRatio > 0 && m.heapUsed > t.maxHeapUsedRatio * heapLimit) return 'heap';
      if (t.maxRssBytes > 0 && m.rssBytes > t.maxRssBytes) return 'rss';
      return undefined;
    };
    let verdict: ShedReason | undefined;
    // Logged when shedding starts and stops, never per request.
    const update = () => {
      const next = judge();
      if (next !== verdict) {
        const m = app.memoryUsage();
        const signals = {
          event_loop_delay_ms: Math.round(m.eventLoopDelay),
          event_loop_utilization: Math.round(m.eventLoopUtilized * 1000) / 1000,
          heap_used_bytes: m.heapUsed,
          rss_bytes: m.rssBytes,
        };
        if (next) logger.warn({ reason: next, ...signals }, 'load shedding started: app requests answered 503');
        else logger.info({ previous_reason: verdict, ...signals }, 'load shedding stopped');
      }
      verdict = next;
    };
    const timer = setInterval(update, sampleIntervalMs).unref();
    runtimeConfig.onChange(update);
    app.addHook('onClose', async () => clearInterval(timer));
    app.decorate('pressure', () => verdict);

    app.addHook('onRequest', (_request, reply, done) => {
      const reason = verdict;
      if (reason === undefined) return done();
      shed.inc({ reason });
      reply.header('retry-after', runtimeConfig.current.shedding.retryAfterSeconds);
      done(OVERLOADED[reason]);
    });
  },
  { name: 'load-shedding' },
);
