// Scale: is the service sized right, and is the autoscaler doing its job?
// Replicas vs the HPA's bounds and target, CPU and memory against requests
// and limits, restarts and readiness.
//
// Most series here come from outside the service: kube-state-metrics
// (Deployment, HPA, pod status, resource requests) and the kubelet's cAdvisor
// (CPU throttling). They are declared in dashboards/check/external-metrics.ts;
// without them (the local compose stack) these panels are empty.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { periscopeDashboard } from './lib/dashboard.js';
import { query, redFrom, stat, stateTimeline, timeseries, valueMappings } from './lib/panels.js';
import { PODS, sel, sumRate } from './lib/promql.js';
import * as v from './lib/variables.js';

const DEPLOYMENT = 'namespace="$namespace", deployment="$deployment"';
const HPA = 'namespace="$namespace", horizontalpodautoscaler="$hpa"';
// Every pod of the Deployment (named <deployment>-<replicaset hash>-<suffix>),
// including one that crashes before it exports a metric: restarts and
// readiness must see those.
const DEPLOYMENT_PODS = 'namespace="$namespace", pod=~"$deployment-[a-z0-9]+-[a-z0-9]+", container="$container"';
// The selected pods' own container (sidecars excluded), for requests/limits.
const CONTAINERS = 'namespace="$namespace", pod=~"$pod", container="$container"';

export function scale() {
  return (
    periscopeDashboard({
      uid: 'periscope-scale',
      title: 'Periscope / Scale',
      description:
        'Replicas vs HPA bounds and target, the HPA metric, CPU and memory vs requests and limits, throttling, restarts, readiness. Needs kube-state-metrics and cAdvisor.',
      variables: [v.datasource(), v.job(), v.namespace(), v.pod(), v.deployment(), v.hpa(), v.container()],
    })
      // ------------------------------------------------------------ Replicas
      .withRow(new RowBuilder('Replicas and autoscaling'))
      .withPanel(
        timeseries({
          title: 'Replicas vs HPA bounds',
          description:
            'Deployment replicas (desired by the spec, current, ready, available) against the HPA’s min, max and desired count. Current pinned at max while utilization stays above target: the HPA has run out of room.',
          queries: [
            query(`max(kube_deployment_spec_replicas${sel(DEPLOYMENT)})`, 'spec'),
            query(`max(kube_deployment_status_replicas${sel(DEPLOYMENT)})`, 'current'),
            query(`max(kube_deployment_status_replicas_ready${sel(DEPLOYMENT)})`, 'ready'),
            query(`max(kube_deployment_status_replicas_available${sel(DEPLOYMENT)})`, 'available'),
            query(`max(kube_horizontalpodautoscaler_status_desired_replicas${sel(HPA)})`, 'HPA desired'),
            query(`max(kube_horizontalpodautoscaler_spec_min_replicas${sel(HPA)})`, 'HPA min'),
            query(`max(kube_horizontalpodautoscaler_spec_max_replicas${sel(HPA)})`, 'HPA max'),
          ],
          min: 0,
        }),
      )
      .withPanel(
        timeseries({
          title: 'HPA metric: current vs target',
          description:
            'What the HPA sees for each metric it scales on, against its target (kube-state-metrics). For the event-loop utilization metric the target is the per-pod average.',
          queries: [
            query(
              `max by (metric_name, metric_target_type) (kube_horizontalpodautoscaler_status_target_metric${sel(HPA)})`,
              'current {{metric_name}} ({{metric_target_type}})',
            ),
            query(
              `max by (metric_name, metric_target_type) (kube_horizontalpodautoscaler_spec_target_metric${sel(HPA)})`,
              'target {{metric_name}} ({{metric_target_type}})',
            ),
          ],
          min: 0,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Event-loop utilization: per pod and average',
          description:
            'The service’s own view of the HPA signal: busy share of each pod’s event loop, and their average (what a per-pod average target compares against).',
          queries: [
            query(`avg(${sumRate('nodejs_eventloop_active_seconds_total', PODS, ['pod'])})`, 'average'),
            query(sumRate('nodejs_eventloop_active_seconds_total', PODS, ['pod']), '{{pod}}'),
          ],
          unit: 'percentunit',
          min: 0,
          max: 1,
        }),
      )
      .withPanel(
        stateTimeline({
          title: 'HPA conditions',
          description:
            'AbleToScale, ScalingActive (false: the metric is missing, e.g. the adapter is down) and ScalingLimited (true: pinned at min or max replicas).',
          queries: [
            query(
              `max by (condition) (kube_horizontalpodautoscaler_status_condition${sel(HPA, 'status="true"')})`,
              '{{condition}}',
            ),
          ],
          mappings: valueMappings({
            '1': { text: 'true', color: 'blue' },
            '0': { text: 'false', color: 'transparent' },
          }),
        }),
      )

      // ----------------------------------------------------------- Resources
      .withRow(new RowBuilder('Resources'))
      .withPanel(
        timeseries({
          title: 'CPU vs requests and limits by pod',
          description:
            'Cores used by the process against the container’s CPU request (what the scheduler reserved) and limit (where the kernel throttles it).',
          queries: [
            query(sumRate('process_cpu_seconds_total', PODS, ['pod']), '{{pod}} used'),
            query(
              `sum by (pod) (kube_pod_container_resource_requests${sel(CONTAINERS, 'resource="cpu"')})`,
              '{{pod}} request',
            ),
            query(
              `sum by (pod) (kube_pod_container_resource_limits${sel(CONTAINERS, 'resource="cpu"')})`,
              '{{pod}} limit',
            ),
          ],
          min: 0,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'CPU throttling by pod',
          description:
            'Share of CFS periods in which the container was throttled (cAdvisor). Throttling stalls the event loop in bursts of up to 100 ms: latency spikes with CPU below the limit on average.',
          queries: [
            query(
              `sum by (pod) (rate(container_cpu_cfs_throttled_periods_total${sel(CONTAINERS)}[$__rate_interval])) / sum by (pod) (rate(container_cpu_cfs_periods_total${sel(CONTAINERS)}[$__rate_interval]))`,
              '{{pod}}',
            ),
          ],
          unit: 'percentunit',
          min: 0,
          max: 1,
          span: 8,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Memory (RSS) vs requests and limits by pod',
          description:
            'Resident memory against the container’s memory request and limit. At the limit the kernel OOM-kills the process (a restart with reason OOMKilled).',
          queries: [
            query(`max by (pod) (process_resident_memory_bytes${sel(PODS)})`, '{{pod}} rss'),
            query(
              `sum by (pod) (kube_pod_container_resource_requests${sel(CONTAINERS, 'resource="memory"')})`,
              '{{pod}} request',
            ),
            query(
              `sum by (pod) (kube_pod_container_resource_limits${sel(CONTAINERS, 'resource="memory"')})`,
              '{{pod}} limit',
            ),
          ],
          unit: 'bytes',
          min: 0,
          span: 8,
        }),
      )

      // ----------------------------------------------------------- Pod health
      .withRow(new RowBuilder('Pod health (every pod of the Deployment)'))
      .withPanel(
        stat({
          title: 'Pods ready',
          description: 'Pods of the Deployment whose Ready condition is true (receiving traffic).',
          queries: [
            query(
              `sum(kube_pod_status_ready${sel('namespace="$namespace", pod=~"$deployment-[a-z0-9]+-[a-z0-9]+"', 'condition="true"')})`,
              'ready',
            ),
          ],
          span: 6,
          height: 6,
        }),
      )
      .withPanel(
        timeseries({
          title: 'Container restarts in the previous hour',
          description:
            'Restarts of the service container per pod over a sliding hour. PeriscopePodRestarting fires above 2. Each restart is a crash, an OOM kill or a failed liveness probe.',
          queries: [
            query(
              `sum by (pod) (increase(kube_pod_container_status_restarts_total${sel(DEPLOYMENT_PODS)}[1h]))`,
              '{{pod}}',
            ),
          ],
          min: 0,
          span: 18,
          height: 6,
          thresholds: redFrom(2),
        }),
      )
      .withPanel(
        stateTimeline({
          title: 'Pod readiness',
          description:
            'Ready condition per pod: not ready during start-up, during shutdown (readiness fails first), or while failing /readyz.',
          queries: [
            query(
              `max by (pod) (kube_pod_status_ready${sel('namespace="$namespace", pod=~"$deployment-[a-z0-9]+-[a-z0-9]+"', 'condition="true"')})`,
              '{{pod}}',
            ),
          ],
          mappings: valueMappings({
            '1': { text: 'ready', color: 'green' },
            '0': { text: 'not ready', color: 'red' },
          }),
        }),
      )
  );
}
