// The one metrics registry of the process: prom-client's default runtime
// metrics plus the service's own, all created from the catalog.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CATALOG, M, type MetricSpec } from './catalog.js';
import { EventLoopUtilization } from './event-loop.js';
import { LabeledHistogram } from './histogram.js';

/** Metrics of the resilience mechanisms, driven by service/src/resilience/. */
export interface ResilienceMetrics {
  shed: Counter<'reason'>;
  rateLimited: Counter<'http_route'>;
  deadlineExceeded: Counter<'http_route'>;
  breakerState: Gauge<'breaker'>;
  breakerCalls: Counter<'breaker' | 'result'>;
  poolQueue: Gauge<'pool'>;
  poolUtilization: Gauge<'pool'>;
  poolTasks: Counter<'pool' | 'result'>;
  configReloads: Counter<'result'>;
  configInfo: Gauge<'hash'>;
}

export interface ServiceMetrics {
  registry: Registry;
  resilience: ResilienceMetrics;
  /** Run `fn` at the start of every scrape (to sample a pool, say). */
  onCollect(fn: () => void): void;
  httpServerDuration: LabeledHistogram;
  httpClientDuration: LabeledHistogram;
  /** In-flight server requests; a plain number read at scrape time. */
  active: { requests: number };
  eventLoop: EventLoopUtilization;
  stop(): void;
}

function gaugeFrom<L extends string = string>(
  spec: MetricSpec,
  registry: Registry,
  collect?: (this: Gauge<L>) => void,
): Gauge<L> {
  return new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labels as L[],
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
}

function counterFrom<L extends string = string>(spec: MetricSpec, registry: Registry): Counter<L> {
  return new Counter<L>({ name: spec.name, help: spec.help, labelNames: spec.labels as L[], registers: [registry] });
}

export function createMetrics(): ServiceMetrics {
  const registry = new Registry();
  const active = { requests: 0 };
  const collectHooks: Array<() => void> = [];
  const runCollectHooks = () => {
    for (const fn of collectHooks) fn();
  };
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

  const resilience: ResilienceMetrics = {
    shed: counterFrom(M.shedRequests, registry),
    rateLimited: counterFrom(M.rateLimitedRequests, registry),
    deadlineExceeded: counterFrom(M.deadlineExceeded, registry),
    breakerState: gaugeFrom(M.breakerState, registry),
    breakerCalls: counterFrom(M.breakerCalls, registry),
    // The pool gauges are sampled at scrape time; the first one runs the hooks.
    poolQueue: gaugeFrom(M.workerPoolQueue, registry, runCollectHooks),
    poolUtilization: gaugeFrom(M.workerPoolUtilization, registry),
    poolTasks: counterFrom(M.workerPoolTasks, registry),
    configReloads: counterFrom(M.configReloads, registry),
    configInfo: gaugeFrom(M.configInfo, registry),
  };
  // Known label values start at 0, so rate() and dashboards have a series from the first scrape.
  for (const result of ['success', 'failure']) resilience.configReloads.inc({ result }, 0);

  // GC durations in the same spirit as the OTel runtime conventions: most
  // minor GCs take well under a millisecond, majors tens of milliseconds.
  collectDefaultMetrics({
    register: registry,
    gcDurationBuckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
  });

  return {
    registry,
    resilience,
    onCollect: (fn) => collectHooks.push(fn),
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
