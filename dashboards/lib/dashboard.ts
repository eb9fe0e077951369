// The frame every Periscope dashboard shares: tag, time range, refresh,
// shared crosshair, and links to the other Periscope dashboards that carry
// the time range and the variables along.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';

export const TAG = 'periscope';

export interface DashboardOptions {
  uid: string;
  title: string;
  description: string;
  variables: ReadonlyArray<cog.Builder<VariableModel>>;
}

export function periscopeDashboard(o: DashboardOptions): DashboardBuilder {
  return new DashboardBuilder(o.title)
    .uid(o.uid)
    .description(o.description)
    .tags([TAG])
    .editable()
    .timezone('browser')
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .tooltip(DashboardCursorSync.Crosshair)
    .variables([...o.variables])
    .link(
      new DashboardLinkBuilder('Periscope')
        .type(DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(false)
        .keepTime(true)
        .includeVars(true)
        .targetBlank(false),
    );
}
