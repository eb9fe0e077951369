// The metric catalog: every metric family the service exports, declared once.
//
// Instrumentation creates its metrics from these entries (never from string
// literals elsewhere), a test checks that a live /metrics exports exactly this
// set, and `npm run catalog` prints it as JSON for the dashboards, alert rules,
// recording rules and HPA adapter rules, which are checked against it.
//
// Names follow the OpenTelemetry semantic conventions in Prometheus form
// (`http.server.request.duration` in seconds → http_server_request_duration_seconds).

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  /** Family name as exposed in the Prometheus text format (counters end in _total). */
  name: string;
  type: MetricType;
  /** UCUM-style unit: s, By, 1, {request}, ... */
  unit: string;
  help: string;
  labels: readonly string[];
  /** Who produces it: this service's code, or prom-client's default runtime collectors. */
  source: 'service' | 'runtime';
  /** Histogram bucket upper bounds. */
  buckets?: readonly number[];
}

// OpenTelemetry's advised boundaries for http.*.request.duration (seconds).
export const HTTP_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
] as const;

const def = <const T extends MetricSpec>(spec: T): T => spec;

/** Metrics produced by the service's own instrumentation, by role. */
export const M = {
  httpServerDuration: def({
    name: 'http_server_request_duration_seconds',
    type: 'histogram',
    unit: 's',
    help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
    labels: ['http_request_method', 'http_route', 'http_response_status_code'],
    source: 'service',
    buckets: HTTP_DURATION_BUCKETS,
  }),
  httpServerActive: def({
    name: 'http_server_active_requests',
    type: 'gauge',
    unit: '{request}',
    help: 'Number of HTTP server requests in flight (OpenTelemetry http.server.active_requests).',
    labels: [],
    source: 'service',
  }),
  httpClientDuration: def({
    name: 'http_client_request_duration_seconds',
    type: 'histogram',
    unit: 's',
    help: 'Duration of outgoing HTTP requests (OpenTelemetry http.client.request.duration).',
    labels: ['http_request_method', 'server_address', 'http_response_status_code', 'error_type'],
    source: 'service',
    buckets: HTTP_DURATION_BUCKETS,
  }),
  eventLoopUtilization: def({
    name: 'nodejs_eventloop_utilization_ratio',
    type: 'gauge',
    unit: '1',
    help: 'Event-loop utilization (share of time the loop was busy) over the last 10 seconds.',
    labels: [],
    source: 'service',
  }),
  eventLoopActive: def({
    name: 'nodejs_eventloop_active_seconds_total',
    type: 'counter',
    unit: 's',
    help: 'Time the event loop spent busy; rate() of this is the event-loop utilization over any window.',
    labels: [],
    source: 'service',
  }),
  // Resilience (service/src/resilience/): each mechanism is visible.
  shedRequests: def({
    name: 'http_server_shed_requests_total',
    type: 'counter',
    unit: '{request}',
    help: 'Requests answered 503 by load shedding, by the pressure signal that tripped.',
    labels: ['reason'],
    source: 'service',
  }),
  heldConnections: def({
    name: 'http_server_held_connections',
    type: 'gauge',
    unit: '{connection}',
    help: 'Keep-alive connections not being read because the process is at its in-flight request limit (admission control); their next request waits in the kernel.',
    labels: [],
    source: 'service',
  }),
  admissionLimit: def({
    name: 'http_server_admission_limit',
    type: 'gauge',
    unit: '{request}',
    help: 'Requests in flight at which admission control holds connections: admission.maxInFlight, lowered while connections are held and the event loop is queueing (0 = off).',
    labels: [],
    source: 'service',
  }),
  connectionHolds: def({
    name: 'http_server_connection_holds_total',
    type: 'counter',
    unit: '{connection}',
    help: 'Times a connection was held by admission control (the process was at its in-flight request limit when its response finished).',
    labels: [],
    source: 'service',
  }),
  rateLimitedRequests: def({
    name: 'http_server_rate_limited_requests_total',
    type: 'counter',
    unit: '{request}',
    help: 'Requests answered 429 by the rate limiter.',
    labels: ['http_route'],
    source: 'service',
  }),
  deadlineExceeded: def({
    name: 'http_server_deadline_exceeded_total',
    type: 'counter',
    unit: '{request}',
    help: 'Requests answered 504 because their route deadline expired.',
    labels: ['http_route'],
    source: 'service',
  }),
  breakerState: def({
    name: 'circuit_breaker_state',
    type: 'gauge',
    unit: '1',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    labels: ['breaker'],
    source: 'service',
  }),
  breakerCalls: def({
    name: 'circuit_breaker_calls_total',
    type: 'counter',
    unit: '{call}',
    help: 'Calls through a circuit breaker by outcome (success, failure, timeout, rejected, fallback).',
    labels: ['breaker', 'result'],
    source: 'service',
  }),
  workerPoolQueue: def({
    name: 'worker_pool_queue_size',
    type: 'gauge',
    unit: '{task}',
    help: 'Tasks waiting for a worker thread.',
    labels: ['pool'],
    source: 'service',
  }),
  workerPoolUtilization: def({
    name: 'worker_pool_utilization_ratio',
    type: 'gauge',
    unit: '1',
    help: 'Share of worker-thread capacity in use since the pool started (piscina utilization).',
    labels: ['pool'],
    source: 'service',
  }),
  workerPoolTasks: def({
    name: 'worker_pool_tasks_total',
    type: 'counter',
    unit: '{task}',
    help: 'Tasks submitted to a worker pool by outcome (completed, failed, rejected).',
    labels: ['pool', 'result'],
    source: 'service',
  }),
  configReloads: def({
    name: 'config_reload_total',
    type: 'counter',
    unit: '{reload}',
    help: 'CONFIG_FILE reload attempts by result (success, failure).',
    labels: ['result'],
    source: 'service',
  }),
  configInfo: def({
    name: 'config_info',
    type: 'gauge',
    unit: '1',
    help: 'Always 1; the hash label identifies the CONFIG_FILE content in force ("defaults" without one).',
    labels: ['hash'],
    source: 'service',
  }),
} as const;

// prom-client's default runtime metrics (collectDefaultMetrics), as exported.
const runtime = (name: string, type: MetricType, unit: string, help: string, labels: readonly string[] = []) =>
  def({ name, type, unit, help, labels, source: 'runtime' });

export const RUNTIME_METRICS: readonly MetricSpec[] = [
  runtime('process_cpu_user_seconds_total', 'counter', 's', 'Total user CPU time spent in seconds.'),
  runtime('process_cpu_system_seconds_total', 'counter', 's', 'Total system CPU time spent in seconds.'),
  runtime('process_cpu_seconds_total', 'counter', 's', 'Total user and system CPU time spent in seconds.'),
  runtime('process_start_time_seconds', 'gauge', 's', 'Start time of the process since unix epoch in seconds.'),
  runtime('process_resident_memory_bytes', 'gauge', 'By', 'Resident memory size in bytes.'),
  runtime('process_virtual_memory_bytes', 'gauge', 'By', 'Virtual memory size in bytes.'),
  runtime('process_heap_bytes', 'gauge', 'By', 'Process heap size in bytes.'),
  runtime('process_open_fds', 'gauge', '{fd}', 'Number of open file descriptors.'),
  runtime('process_max_fds', 'gauge', '{fd}', 'Maximum number of open file descriptors.'),
  runtime('nodejs_eventloop_lag_seconds', 'gauge', 's', 'Lag of event loop in seconds.'),
  runtime('nodejs_eventloop_lag_min_seconds', 'gauge', 's', 'The minimum recorded event loop delay.'),
  runtime('nodejs_eventloop_lag_max_seconds', 'gauge', 's', 'The maximum recorded event loop delay.'),
  runtime('nodejs_eventloop_lag_mean_seconds', 'gauge', 's', 'The mean of the recorded event loop delays.'),
  runtime(
    'nodejs_eventloop_lag_stddev_seconds',
    'gauge',
    's',
    'The standard deviation of the recorded event loop delays.',
  ),
  runtime('nodejs_eventloop_lag_p50_seconds', 'gauge', 's', 'The 50th percentile of the recorded event loop delays.'),
  runtime('nodejs_eventloop_lag_p90_seconds', 'gauge', 's', 'The 90th percentile of the recorded event loop delays.'),
  runtime('nodejs_eventloop_lag_p99_seconds', 'gauge', 's', 'The 99th percentile of the recorded event loop delays.'),
  runtime(
    'nodejs_active_resources',
    'gauge',
    '{resource}',
    'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    ['type'],
  ),
  runtime('nodejs_active_resources_total', 'gauge', '{resource}', 'Total number of active resources.'),
  runtime('nodejs_heap_size_total_bytes', 'gauge', 'By', 'Process heap size from Node.js in bytes.'),
  runtime('nodejs_heap_size_used_bytes', 'gauge', 'By', 'Process heap size used from Node.js in bytes.'),
  runtime('nodejs_external_memory_bytes', 'gauge', 'By', 'Node.js external memory size in bytes.'),
  runtime('nodejs_heap_space_size_total_bytes', 'gauge', 'By', 'Process heap space size total from Node.js in bytes.', [
    'space',
  ]),
  runtime('nodejs_heap_space_size_used_bytes', 'gauge', 'By', 'Process heap space size used from Node.js in bytes.', [
    'space',
  ]),
  runtime(
    'nodejs_heap_space_size_available_bytes',
    'gauge',
    'By',
    'Process heap space size available from Node.js in bytes.',
    ['space'],
  ),
  runtime('nodejs_version_info', 'gauge', '1', 'Node.js version info.', ['version', 'major', 'minor', 'patch']),
  runtime(
    'nodejs_gc_duration_seconds',
    'histogram',
    's',
    'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    ['kind'],
  ),
];

/** The whole catalog, in exposition order. */
export const CATALOG: readonly MetricSpec[] = [...Object.values(M), ...RUNTIME_METRICS];

/** Series names a family produces (histograms: _bucket, _sum, _count). */
export function seriesNames(spec: MetricSpec): string[] {
  return spec.type === 'histogram' ? [`${spec.name}_bucket`, `${spec.name}_sum`, `${spec.name}_count`] : [spec.name];
}

/** Every series name in the catalog → its family. For checking queries and rules. */
export function seriesIndex(catalog: readonly MetricSpec[] = CATALOG): Map<string, MetricSpec> {
  const index = new Map<string, MetricSpec>();
  for (const spec of catalog) for (const s of seriesNames(spec)) index.set(s, spec);
  return index;
}
