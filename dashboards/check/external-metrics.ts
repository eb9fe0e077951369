// Metrics the dashboards and rules read that the service does NOT export.
//
// The catalog (service/src/telemetry/metrics/catalog.ts) lists what the
// service exports; these come from the cluster's own exporters. The catalog
// check accepts a name only from the catalog, a recording rule, or this
// list, so every external dependency is declared here, with its source. The
// real-Prometheus test (infra/test/dashboards.test.ts) serves realistic
// series for every entry from a fixture exporter so their queries run too.
//
// Without these exporters (the local compose stack) the panels that use them
// are empty; the alert PeriscopePodRestarting needs kube-state-metrics.

export interface ExternalMetric {
  name: string;
  type: 'counter' | 'gauge';
  /** Labels the exporter sets (target labels such as job/instance come on top). */
  labels: readonly string[];
  source: string;
}

const KSM = 'kube-state-metrics v2 (scraped with honor_labels: true, as kube-prometheus does)';
const CADVISOR = 'kubelet cAdvisor (/metrics/cadvisor)';

const ksm = (name: string, labels: readonly string[], type: ExternalMetric['type'] = 'gauge'): ExternalMetric => ({
  name,
  type,
  labels,
  source: KSM,
});

const DEPLOYMENT = ['namespace', 'deployment'];
const HPA = ['namespace', 'horizontalpodautoscaler'];
const POD = ['namespace', 'pod', 'uid'];
const CONTAINER = [...POD, 'container'];

export const EXTERNAL_METRICS: readonly ExternalMetric[] = [
  ksm('kube_deployment_spec_replicas', DEPLOYMENT),
  ksm('kube_deployment_status_replicas', DEPLOYMENT),
  ksm('kube_deployment_status_replicas_ready', DEPLOYMENT),
  ksm('kube_deployment_status_replicas_available', DEPLOYMENT),
  ksm('kube_horizontalpodautoscaler_info', [
    ...HPA,
    'scaletargetref_api_version',
    'scaletargetref_kind',
    'scaletargetref_name',
  ]),
  ksm('kube_horizontalpodautoscaler_spec_min_replicas', HPA),
  ksm('kube_horizontalpodautoscaler_spec_max_replicas', HPA),
  ksm('kube_horizontalpodautoscaler_status_desired_replicas', HPA),
  ksm('kube_horizontalpodautoscaler_spec_target_metric', [...HPA, 'metric_name', 'metric_target_type']),
  ksm('kube_horizontalpodautoscaler_status_target_metric', [...HPA, 'metric_name', 'metric_target_type']),
  ksm('kube_horizontalpodautoscaler_status_condition', [...HPA, 'condition', 'status']),
  ksm('kube_pod_status_ready', [...POD, 'condition']),
  ksm('kube_pod_container_status_restarts_total', CONTAINER, 'counter'),
  ksm('kube_pod_container_resource_requests', [...CONTAINER, 'node', 'resource', 'unit']),
  ksm('kube_pod_container_resource_limits', [...CONTAINER, 'node', 'resource', 'unit']),
  {
    name: 'container_cpu_cfs_periods_total',
    type: 'counter',
    labels: [...POD.filter((l) => l !== 'uid'), 'container', 'id', 'image', 'name'],
    source: CADVISOR,
  },
  {
    name: 'container_cpu_cfs_throttled_periods_total',
    type: 'counter',
    labels: [...POD.filter((l) => l !== 'uid'), 'container', 'id', 'image', 'name'],
    source: CADVISOR,
  },
];

/**
 * Labels Prometheus attaches to the service's own series at scrape time: job
 * and instance always; namespace and pod from Kubernetes service discovery;
 * track from the pod label the chart sets (stable|canary), mapped by the
 * ServiceMonitor. The local stack sets the same ones statically.
 */
export const TARGET_LABELS: readonly string[] = ['job', 'instance', 'namespace', 'pod', 'track'];
