// Template variables shared by the dashboards: data source, service (job),
// namespace, pod and route. In a cluster, namespace and pod come from
// Prometheus' Kubernetes service discovery and job from the ServiceMonitor;
// the local stack sets the same labels statically (infra/prometheus/prometheus.yml).
import {
  ConstantVariableBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PROMETHEUS } from './datasources.js';

// Only processes built from this template export this counter (the
// event-loop busy time), so the service picker lists Periscope services and
// not every job that happens to export http_server_* or nodejs_* series.
const MARKER = 'nodejs_eventloop_active_seconds_total';

function labelValues(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.NaturalAsc);
}

export const datasource = () =>
  new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus').regex('');

export const job = () => labelValues('job', 'Service', `label_values(${MARKER}, job)`);

export const namespace = () => labelValues('namespace', 'Namespace', `label_values(${MARKER}{job="$job"}, namespace)`);

export const pod = () =>
  labelValues('pod', 'Pod', `label_values(${MARKER}{job="$job", namespace="$namespace"}, pod)`)
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .current({ selected: true, text: ['All'], value: ['$__all'] });

export const route = () =>
  labelValues(
    'route',
    'Route',
    'label_values(http_server_request_duration_seconds_count{job="$job", namespace="$namespace"}, http_route)',
  )
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .current({ selected: true, text: ['All'], value: ['$__all'] });

// Scale dashboard: the Deployment and its HPA, from kube-state-metrics.
export const deployment = () =>
  labelValues(
    'deployment',
    'Deployment',
    'label_values(kube_deployment_spec_replicas{namespace="$namespace"}, deployment)',
  );

/** The HPA whose scale target is $deployment (hidden: it follows the deployment). */
export const hpa = () =>
  labelValues(
    'hpa',
    'HPA',
    'label_values(kube_horizontalpodautoscaler_info{namespace="$namespace", scaletargetref_name="$deployment"}, horizontalpodautoscaler)',
  ).hide(VariableHide.HideVariable);

/** The chart's container name, as kube-state-metrics labels it (sidecars excluded). Constants are hidden. */
export const container = () => new ConstantVariableBuilder('container').value('periscope');
