// GET /metrics: Prometheus text by default, OpenMetrics (with exemplars)
// when the scraper asks for it in Accept. Scrapes that arrive while one is
// being collected share its result, so a burst of scrapers costs one collection.
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import {
  negotiateFormat,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  render,
  snapshot,
} from '../telemetry/metrics/exposition.js';
import type { MetricSnapshot } from '../telemetry/metrics/histogram.js';

const metricsRoute: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  let inFlight: Promise<MetricSnapshot[]> | undefined;
  const collect = () => {
    inFlight ??= snapshot(registry).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  app.get('/metrics', async (request, reply) => {
    const format = negotiateFormat(request.headers.accept);
    const body = render(await collect(), format);
    reply
      .header('content-type', format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE)
      .header('cache-control', 'no-store');
    return body;
  });
};

export default metricsRoute;
