// Kubernetes probes and the health report, on the admin port only.
//
//   /livez   200 while the event loop turns. Checks nothing else: restarting a
//            pod never fixes a dependency outage, it only adds cold starts.
//   /readyz  200 only in the `ready` phase: 503 while starting and from the
//            first moment of shutdown, so endpoints drop the pod before it stops.
//   /healthz every registered component with status, latency and last error;
//            503 when a critical one is down. For humans and alerting, not
//            for the kubelet.
import type { FastifyPluginAsync } from 'fastify';
import type { HealthRegistry } from '../health/registry.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';

export interface ProbeOptions {
  lifecycle: Lifecycle;
  health: HealthRegistry;
  /** Extra top-level fields for /healthz (e.g. the runtime config hash). */
  details?: () => Record<string, unknown>;
}

const NO_STORE = 'no-store';

const probes: FastifyPluginAsync<ProbeOptions> = async (app, { lifecycle, health, details }) => {
  app.get('/livez', (_request, reply) => {
    reply.header('cache-control', NO_STORE).send({ status: 'ok' });
  });

  app.get('/readyz', (_request, reply) => {
    reply
      .code(lifecycle.ready ? 200 : 503)
      .header('cache-control', NO_STORE)
      .send({ status: lifecycle.phase });
  });

  app.get('/healthz', async (_request, reply) => {
    const report = await health.report();
    reply
      .code(report.status === 'fail' ? 503 : 200)
      .header('cache-control', NO_STORE)
      .send({ status: report.status, phase: lifecycle.phase, ...details?.(), components: report.components });
  });
};

export default probes;
