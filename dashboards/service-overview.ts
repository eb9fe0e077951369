// Service overview: is the service doing its job for its callers, and if
// not, where (route, status, pod, canary)? RED per route with exemplars that
// open traces, the SLO burn rates the alerts page on, and every protection
// mechanism (shedding, rate limits, deadlines, breakers) that turns overload
// into fast failures.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { periscopeDashboard } from './lib/dashboard.js';
import {
  greenFrom,
  heatmap,
  PromQueryFormat,
  query,
  redFrom,
  stat,
  stateTimeline,
  table,
  timeseries,
  valueMappings,
} from './lib/panels.js';
import { PODS, quantile, RATE_WINDOW, ROUTES, ratioOrZero, SERVICE, sel, sumRate } from './lib/promql.js';
import * as v from './lib/variables.js';

const HTTP = 'http_server_request_duration_seconds';
const CLIENT = 'http_client_request_duration_seconds';
const AVAILABILITY_BUDGET = 0.001; // 99.9 %: infra/prometheus/rules/recording-rules.yaml
const LATENCY_BUDGET = 0.01; // 99 % within 1 s

const burnRateThresholds = [
  { value: null, color: 'green' },
  { value: 1, color: 'yellow' },
  { value: 6, color: 'orange' },
  { value: 14.4, color: 'red' },
];

export function serviceOverview() {
  return (
    periscopeDashboard({
      uid: 'periscope-service-overview',
      title: 'Periscope / Service overview',
      description:
        'RED per route with exemplars linking to traces, SLO burn rates, load shedding, rate limits, deadlines, circuit breakers, downstream calls, canary vs stable.',
      variables: [v.datasource(), v.job(), v.namespace(), v.pod(), v.route()],
    })
      // ---------------------------------------------------------------- SLOs
      .withRow(new RowBuilder('Service level (whole service: pod and route filters do not apply)'))
      .withPanel(
        stat({
          title: 'Availability, last 24 h',
          description:
            'Share of requests answered without a 5xx over the last day (recording rule namespace_job:http_server_request_errors:ratio_rate1d). Objective: 99.9 %.',
          queries: [query(`1 - namespace_job:http_server_request_errors:ratio_rate1d${sel(SERVICE)}`, 'availability')],
          unit: 'percentunit',
          span: 6,
          thresholds: greenFrom(0.999),
        }),
      )
      .withPanel(
        stat({
          title: 'Requests within 1 s, last 24 h',
          description:
            'Share of requests that completed within 1 s over the last day (recording rule namespace_job:http_server_request_slow:ratio_rate1d). Objective: 99 %.',
          queries: [query(`1 - namespace_job:http_server_request_slow:ratio_rate1d${sel(SERVICE)}`, 'within 1 s')],
          unit: 'percentunit',
          span: 6,
          thresholds: greenFrom(0.99),
        }),
      )
      .withPanel(
        stat({
          title: 'Request rate',
          description: 'Requests per second over the last 5 minutes, all pods and routes.',
          queries: [query(`namespace_job:http_server_requests:rate5m${sel(SERVICE)}`, 'req/s')],
          unit: 'reqps',
          span: 6,
        }),
      )
      .withPanel(
        stat({
          title: 'Error ratio (5xx), last 5 min',
          description: 'Share of requests answered with a 5xx over the last 5 minutes.',
          queries: [query(`namespace_job:http_server_request_errors:ratio_rate5m${sel(SERVICE)}`, '5xx')],
          unit: 'percentunit',
          span: 6,
          thresholds: redFrom(14.4 * AVAILABILITY_BUDGET),
        }),
      )
      .withPanel(
        timeseries({
          title: 'Availability error-budget burn rate',
          description:
            '5xx ratio divided by the error budget (0.1 %), per alert window. 1 = the budget lasts exactly 30 days. PeriscopeAvailabilityBudgetBurn pages above 14.4 (1 h and 5 m) or 6 (6 h and 30 m) and opens a ticket above 3 (1 d) or 1 (3 d).',
          queries: ['5m', '1h', '6h', '3d'].map((w) =>
            query(`namespace_job:http_server_request_errors:ratio_rate${w}${sel(SERVICE)} / ${AVAILABILITY_BUDGET}`, w),
          ),
          unit: 'x',
          min: 0,
          thresholds: burnRateThresholds,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Latency error-budget burn rate',
          description:
            'Share of requests slower than 1 s divided by the budget (1 %), per alert window. PeriscopeLatencyBudgetBurn uses the same thresholds as availability.',
          queries: ['5m', '1h', '6h', '3d'].map((w) =>
            query(`namespace_job:http_server_request_slow:ratio_rate${w}${sel(SERVICE)} / ${LATENCY_BUDGET}`, w),
          ),
          unit: 'x',
          min: 0,
          thresholds: burnRateThresholds,
        }),
      )

      // -------------------------------------------------------------- Traffic
      .withRow(new RowBuilder('Traffic, errors, latency (per route)'))
      .withPanel(
        timeseries({
          title: 'Request rate by route',
          description:
            'Requests per second by route template (never the raw URL); "unmatched" is every 404 without a route.',
          queries: [query(sumRate(`${HTTP}_count`, ROUTES, ['http_route']), '{{http_route}}')],
          unit: 'reqps',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Error ratio (5xx) by route',
          description:
            'Share of each route’s requests answered with a 5xx (shed 503s and deadline 504s included). 0 while a route has traffic and no errors. 4xx are client errors: see the next panel.',
          queries: [
            query(
              ratioOrZero(`${HTTP}_count`, ROUTES, 'http_response_status_code=~"5.."', ['http_route']),
              '{{http_route}}',
            ),
          ],
          unit: 'percentunit',
          min: 0,
          span: 8,
          thresholds: redFrom(14.4 * AVAILABILITY_BUDGET),
        }),
      )
      .withPanel(
        timeseries({
          title: 'Responses by status code',
          description:
            'Responses per second by status code, stacked: 2xx, 4xx (client errors: 400 validation, 401, 404, 429) and 5xx.',
          queries: [
            query(sumRate(`${HTTP}_count`, ROUTES, ['http_response_status_code']), '{{http_response_status_code}}'),
          ],
          unit: 'reqps',
          min: 0,
          span: 8,
          stack: true,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Latency p50 / p95 / p99 (selected routes)',
          description:
            'Quantiles estimated from the histogram buckets (linear interpolation inside a bucket). The dots are exemplars: one recent request per bucket with its trace_id; click one to open the trace.',
          queries: [
            query(quantile(0.99, HTTP, ROUTES), 'p99', { exemplar: true }),
            query(quantile(0.95, HTTP, ROUTES), 'p95'),
            query(quantile(0.5, HTTP, ROUTES), 'p50'),
          ],
          unit: 's',
          min: 0,
          thresholds: redFrom(1),
        }),
      )
      .withPanel(
        timeseries({
          title: 'Latency p99 by route',
          description: 'p99 per route. The dashed line is the latency SLO threshold (1 s). Exemplar dots open traces.',
          queries: [query(quantile(0.99, HTTP, ROUTES, ['http_route']), '{{http_route}}', { exemplar: true })],
          unit: 's',
          min: 0,
          thresholds: redFrom(1),
        }),
      )
      .withPanel(
        heatmap({
          title: 'Latency distribution',
          description:
            'Requests per bucket over time (selected pods and routes): a second band of slow requests shows up here long before it moves a percentile. Exemplar dots open traces.',
          queries: [
            query(`sum by (le) (increase(${HTTP}_bucket${sel(ROUTES)}[${RATE_WINDOW}]))`, '{{le}}', {
              format: PromQueryFormat.Heatmap,
              exemplar: true,
            }),
          ],
          unit: 's',
        }),
      )
      .withPanel(
        timeseries({
          title: 'Latency p50 by route',
          description: 'Median per route: the typical request, for comparison with the tail above.',
          queries: [query(quantile(0.5, HTTP, ROUTES, ['http_route']), '{{http_route}}', { exemplar: true })],
          unit: 's',
          min: 0,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Active requests by pod, and the admission limit',
          description:
            'Requests in flight (http_server_active_requests). Rising with flat throughput means requests are waiting: on the event loop or on a dependency. The "limit" series: the in-flight count at which admission control holds connections (http_server_admission_limit): admission.maxInFlight, lowered while connections are held and the event loop is queueing (resilience/adaptive-limit.ts).',
          queries: [
            query(`sum by (pod) (http_server_active_requests${sel(PODS)})`, '{{pod}}'),
            query(`max by (pod) (http_server_admission_limit${sel(PODS)})`, '{{pod}} limit'),
          ],
          min: 0,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Connections held by admission control, by pod',
          description:
            'Keep-alive connections whose next request waits unread in the kernel because the pod had admission.maxInFlight requests in flight (CONFIG_FILE; resilience/admission-control.ts). Above zero: the pod is at its concurrency limit, so latency grows while heap and GC stay flat; sustained, it needs more pods.',
          queries: [query(`sum by (pod) (http_server_held_connections${sel(PODS)})`, '{{pod}}')],
          min: 0,
        }),
      )

      // ---------------------------------------------------------- Protection
      .withRow(new RowBuilder('Protection: shedding, rate limits, deadlines, circuit breakers'))
      .withPanel(
        timeseries({
          title: 'Shed requests by reason',
          description:
            'Requests answered 503 by load shedding, by the pressure signal that tripped (event-loop delay, heap, RSS, ...). Any value means a pod was past its limits.',
          queries: [query(sumRate('http_server_shed_requests_total', PODS, ['reason']), '{{reason}}')],
          unit: 'reqps',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Rate-limited requests by route',
          description: 'Requests answered 429 by the rate limiter.',
          queries: [
            query(sumRate('http_server_rate_limited_requests_total', ROUTES, ['http_route']), '{{http_route}}'),
          ],
          unit: 'reqps',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Deadline exceeded by route',
          description: 'Requests answered 504 because their route deadline expired.',
          queries: [query(sumRate('http_server_deadline_exceeded_total', ROUTES, ['http_route']), '{{http_route}}')],
          unit: 'reqps',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        stateTimeline({
          title: 'Circuit breaker state',
          description:
            'Worst state across the selected pods: closed (calls flow), half-open (probing), open (calls fail fast without reaching the dependency).',
          queries: [query(`max by (breaker) (circuit_breaker_state${sel(PODS)})`, '{{breaker}}')],
          mappings: valueMappings({
            '0': { text: 'closed', color: 'green' },
            '1': { text: 'half-open', color: 'yellow' },
            '2': { text: 'open', color: 'red' },
          }),
        }),
      )
      .withPanel(
        timeseries({
          title: 'Circuit breaker calls by result',
          description: 'Calls through each breaker: success, failure, timeout, rejected (breaker open), fallback.',
          queries: [
            query(sumRate('circuit_breaker_calls_total', PODS, ['breaker', 'result']), '{{breaker}} {{result}}'),
          ],
          unit: 'ops',
          min: 0,
          stack: true,
        }),
      )

      // ---------------------------------------------------------- Downstream
      .withRow(new RowBuilder('Downstream calls'))
      .withPanel(
        timeseries({
          title: 'Downstream requests by server and outcome',
          description:
            'Outgoing HTTP requests per second by server, status code and error type (error_type is set when no response arrived: timeout, connection refused, ...).',
          queries: [
            query(
              sumRate(`${CLIENT}_count`, PODS, ['server_address', 'http_response_status_code', 'error_type']),
              '{{server_address}} {{http_response_status_code}} {{error_type}}',
            ),
          ],
          unit: 'reqps',
          min: 0,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Downstream latency p99 by server',
          description:
            'p99 of outgoing requests per server: a slow dependency shows here before it shows in the routes that call it. (The client histogram carries no exemplars: open a slow route’s exemplar, its trace holds the downstream span.)',
          queries: [query(quantile(0.99, CLIENT, PODS, ['server_address']), '{{server_address}}')],
          unit: 's',
          min: 0,
        }),
      )

      // ------------------------------------------------------ Canary / stable
      .withRow(new RowBuilder('Canary vs stable (pod label track)'))
      .withPanel(
        timeseries({
          title: 'Request rate by track',
          description: 'Traffic split between the stable and canary pods (the chart labels pods track=stable|canary).',
          queries: [query(sumRate(`${HTTP}_count`, ROUTES, ['track']), '{{track}}')],
          unit: 'reqps',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Error ratio (5xx) by track',
          description: 'A canary failing more than stable is the signal to roll back.',
          queries: [
            query(ratioOrZero(`${HTTP}_count`, ROUTES, 'http_response_status_code=~"5.."', ['track']), '{{track}}'),
          ],
          unit: 'percentunit',
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Latency p99 by track',
          description: 'Tail latency of canary vs stable on the same routes.',
          queries: [query(quantile(0.99, HTTP, ROUTES, ['track']), '{{track}}', { exemplar: true })],
          unit: 's',
          min: 0,
          span: 8,
        }),
      )

      // -------------------------------------------------------- Configuration
      .withRow(new RowBuilder('Runtime configuration (CONFIG_FILE)'))
      .withPanel(
        timeseries({
          title: 'Config reloads by result',
          description:
            'CONFIG_FILE reload attempts. A failure means the new file was rejected (the log line says why) and the pod kept the previous one.',
          queries: [query(`sum by (result) (increase(config_reload_total${sel(PODS)}[${RATE_WINDOW}]))`, '{{result}}')],
          min: 0,
        }),
      )
      .withPanel(
        table({
          title: 'Config in force by pod',
          description:
            'The hash of the CONFIG_FILE content each pod runs ("defaults" without a file). Pods disagreeing after a ConfigMap change are still on the old file, or rejected the new one.',
          queries: [
            query(`max by (pod, hash) (config_info${sel(PODS)})`, '', { instant: true, format: PromQueryFormat.Table }),
          ],
        }),
      )
  );
}
