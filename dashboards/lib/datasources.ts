// Data source references shared by every dashboard.
//
// Panels query `${datasource}` (a template variable), so one dashboard JSON
// works against any Prometheus. The Jaeger uid is fixed: the Prometheus data
// source's exemplar links point at it (infra/grafana/provisioning), and a
// cluster Grafana that wants trace links must give its Jaeger/Tempo data
// source the same uid (or edit exemplarTraceIdDestinations).
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference, not a JS template
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** uid of the trace data source in infra/grafana/provisioning/datasources. */
export const JAEGER_UID = 'jaeger';
/** uid the provisioning gives the Prometheus data source. */
export const PROMETHEUS_UID = 'prometheus';
