// The one metrics registry of the process: prom-client's default runtime
// metrics plus the service's own, all created from the catalog.
import { readdir } from 'node:fs/promises';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CATALOG, M, type MetricSpec, RUNTIME_METRICS } from './catalog.js';
import { EventLoopUtilization } from './event-loop.js';
import { LabeledHistogram } from './histogram.js';

/** Metrics of the resilience mechanisms, driven by service/src/resilience/. */
export interface ResilienceMetrics {
  shed: Counter<'reason'>;
  heldConnections: Gauge;
  admissionLimit: Gauge;
  connectionHolds: Counter;
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

/** prom-client defaults this service removes (see createMetrics). */
export const UNEXPORTED_DEFAULTS = [
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
] as const;

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
    heldConnections: gaugeFrom(M.heldConnections, registry),
    admissionLimit: gaugeFrom(M.admissionLimit, registry),
    connectionHolds: counterFrom(M.connectionHolds, registry),
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
  // Handles and libuv requests are listed through Node's private
  // process._getActiveHandles()/_getActiveRequests(): one object per socket,
  // grouped at every scrape — tens of milliseconds of blocked event loop at
  // 10,000 connections (measured). nodejs_active_resources{type} (public API,
  // strings only) reports the same population, so those two go.
  for (const name of UNEXPORTED_DEFAULTS) registry.removeSingleMetric(name);
  replaceActiveResources(registry);
  // prom-client counts open fds with readdirSync('/proc/self/fd'): 34 ms of
  // blocked event loop per scrape at 8,000 connections (measured). The same
  // gauge, read asynchronously on libuv's thread pool instead.
  if (registry.getSingleMetric('process_open_fds')) {
    registry.removeSingleMetric('process_open_fds');
    const help = RUNTIME_METRICS.find((m) => m.name === 'process_open_fds')?.help ?? 'Number of open file descriptors.';
    new Gauge({
      name: 'process_open_fds',
      help,
      registers: [registry],
      async collect() {
        this.set((await readdir('/proc/self/fd')).length);
      },
    });
  }

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

/**
 * prom-client's two active-resource gauges each call
 * process.getActiveResourcesInfo() — one string per socket, timer, ... — so a
 * scrape at 10,000 connections built 20,000 strings (~8 ms of blocked loop,
 * measured). Same names and help; one call per scrape.
 */
function replaceActiveResources(registry: Registry): void {
  const byType = RUNTIME_METRICS.find((m) => m.name === 'nodejs_active_resources');
  const total = RUNTIME_METRICS.find((m) => m.name === 'nodejs_active_resources_total');
  if (!byType || !total || typeof process.getActiveResourcesInfo !== 'function') return;
  registry.removeSingleMetric(byType.name);
  registry.removeSingleMetric(total.name);
  let last = { at: -Infinity, count: 0 };
  new Gauge<'type'>({
    name: byType.name,
    help: byType.help,
    labelNames: ['type'],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = {};
      const resources = process.getActiveResourcesInfo();
      for (const r of resources) counts[r] = (counts[r] ?? 0) + 1;
      this.reset();
      for (const [type, n] of Object.entries(counts)) this.set({ type }, n);
      last = { at: performance.now(), count: resources.length };
    },
  });
  new Gauge({
    name: total.name,
    help: total.help,
    registers: [registry],
    collect() {
      // Collected right after the per-type gauge in the same scrape.
      this.set(performance.now() - last.at < 1000 ? last.count : process.getActiveResourcesInfo().length);
    },
  });
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
