// Starts the per-route resilience counters at 0 when a route that can trip
// them is registered (it has a deadline, or opts into rate limiting), so
// dashboards and rate() see a series from the first scrape, not from the
// first incident.
import type { RouteOptions } from 'fastify';
import type { ResilienceMetrics } from '../telemetry/metrics/registry.js';

export function zeroRouteCounters(m: Pick<ResilienceMetrics, 'deadlineExceeded' | 'rateLimited'>) {
  return (route: RouteOptions): void => {
    if (route.handlerTimeout) m.deadlineExceeded.inc({ http_route: route.url }, 0);
    if ((route.config as { rateLimit?: unknown } | undefined)?.rateLimit)
      m.rateLimited.inc({ http_route: route.url }, 0);
  };
}
