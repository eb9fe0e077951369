// The one metrics registry of the process: prom-client's default runtime
// metrics plus the service's own, all created from the catalog.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CATALOG, M, type MetricSpec } from './catalog.js';
import { EventLoopUtilization } from './event-loop.js';
import { LabeledHistogram } from './histogram.js';

export interface ServiceMetrics {
  registry: Registry;
  httpServerDuration: LabeledHistogram;
  httpClientDuration: LabeledHistogram;
  /** In-flight server requests; a plain number read at scrape time. */
  active: { requests: number };
  eventLoop: EventLoopUtilization;
  stop(): void;
}

function gaugeFrom(spec: MetricSpec, registry: Registry, collect: (this: Gauge) => void): Gauge {
  return new Gauge({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry], collect });
}

export function createMetrics(): ServiceMetrics {
  const registry = new Registry();
  const active = { requests: 0 };
  const eventLoop = new EventLoopUtilization();

  const httpServerDuration = new LabeledHistogram(M.httpServerDuration);
  const httpClientDuration = new LabeledHistogram(M.httpClientDuration);
  registry.registerMetric(httpServerDuration as never);
  gaugeFrom(M.httpServerActive, registry, function () {
    this.set(active.requests);
  });
  registry.registerMetric(httpClientDuration as never);
  gaugeFrom(M.eventLoopUtilization, registry, function () {
    this.set(eventLoop.utilization);
  });
  new Counter({
    name: M.eventLoopActive.name,
    help: M.eventLoopActive.help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(eventLoop.activeSeconds);
    },
  });

  // GC durations in the same spirit as the OTel runtime conventions: most
  // minor GCs take well under a millisecond, majors tens of milliseconds.
  collectDefaultMetrics({
    register: registry,
    gcDurationBuckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
  });

  return {
    registry,
    httpServerDuration,
    httpClientDuration,
    active,
    eventLoop,
    stop: () => eventLoop.stop(),
  };
}

/** Names registered but missing from the catalog, and catalogued but not registered. */
export function catalogDrift(registry: Registry, catalog: readonly MetricSpec[] = CATALOG) {
  const registered = new Set(registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name));
  const declared = new Set(catalog.map((s) => s.name));
  return {
    undeclared: [...registered].filter((n) => !declared.has(n)),
    missing: [...declared].filter((n) => !registered.has(n)),
  };
}
