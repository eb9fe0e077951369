// Panel helpers: the handful of panel shapes the dashboards use, with the
// defaults chosen once (legend as a table with last/max, tooltips showing
// every series, Prometheus queries in code mode, exemplars where asked).
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  MappingType,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  HeatmapColorMode,
  HeatmapColorOptionsBuilder,
  PanelBuilder as HeatmapPanel,
  YAxisConfigBuilder,
} from '@grafana/grafana-foundation-sdk/heatmap';
import { DataqueryBuilder, PromQueryFormat, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROMETHEUS } from './datasources.js';

/** One PromQL query of a panel. */
export interface Query {
  expr: string;
  legend?: string;
  /** Also fetch exemplars (latency histograms): dots that open the request's trace. */
  exemplar?: boolean;
  /** Evaluate once at the end of the range (stat and table panels). */
  instant?: boolean;
  format?: PromQueryFormat;
}

export function query(expr: string, legend?: string, extra: Omit<Query, 'expr' | 'legend'> = {}): Query {
  return { expr, ...(legend === undefined ? {} : { legend }), ...extra };
}

function targets(queries: readonly Query[]): DataqueryBuilder[] {
  return queries.map((q, i) => {
    const t = new DataqueryBuilder()
      .datasource(PROMETHEUS)
      .refId(String.fromCharCode(65 + i))
      .editorMode(QueryEditorMode.Code)
      .expr(q.expr)
      .legendFormat(q.legend ?? '__auto');
    if (q.instant) t.instant();
    else t.range();
    if (q.exemplar) t.exemplar(true);
    if (q.format) t.format(q.format);
    return t;
  });
}

export interface PanelOptions {
  title: string;
  /** Shown as the (i) tooltip: what the panel answers and how to read it. */
  description: string;
  queries: readonly Query[];
  unit?: string;
  /** Width in grid units (24 = full row) and height. */
  span?: number;
  height?: number;
  min?: number;
  max?: number;
  /** Threshold steps, the first being the base colour; time series draw them as dashed lines. */
  thresholds?: ReadonlyArray<{ value: number | null; color: string }>;
}

/** Green, turning red at `value` and above. */
export const redFrom = (value: number): PanelOptions['thresholds'] => [
  { value: null, color: 'green' },
  { value, color: 'red' },
];

/** Red, turning green at `value` and above (an objective to reach). */
export const greenFrom = (value: number): PanelOptions['thresholds'] => [
  { value: null, color: 'red' },
  { value, color: 'green' },
];

function thresholds(steps: PanelOptions['thresholds']): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(steps ? [...steps] : [{ value: null, color: 'green' }]);
}

export function timeseries(o: PanelOptions & { stack?: boolean }): TimeseriesPanel {
  const p = new TimeseriesPanel()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS)
    .targets(targets(o.queries))
    .unit(o.unit ?? 'short')
    .span(o.span ?? 12)
    .height(o.height ?? 8)
    .lineWidth(1)
    .fillOpacity(o.stack ? 30 : 10)
    .showPoints(VisibilityMode.Never)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .thresholds(thresholds(o.thresholds));
  if (o.thresholds) p.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  if (o.stack) p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  return p;
}

export function stat(o: PanelOptions & { mappings?: ValueMapping[] }): StatPanel {
  const p = new StatPanel()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS)
    .targets(targets(o.queries))
    .unit(o.unit ?? 'short')
    .span(o.span ?? 6)
    .height(o.height ?? 5)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(o.thresholds));
  if (o.mappings) p.mappings(o.mappings);
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  return p;
}

/** Discrete states over time (breaker state, readiness, HPA conditions). */
export function stateTimeline(o: PanelOptions & { mappings: ValueMapping[] }): StateTimelinePanel {
  return new StateTimelinePanel()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS)
    .targets(targets(o.queries))
    .span(o.span ?? 12)
    .height(o.height ?? 6)
    .mappings(o.mappings)
    .showValue(VisibilityMode.Never)
    .fillOpacity(80)
    .thresholds(thresholds(o.thresholds));
}

/** Instant queries as rows (which pod runs which version or config). */
export function table(o: PanelOptions): TablePanel {
  return new TablePanel()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS)
    .targets(targets(o.queries))
    .span(o.span ?? 12)
    .height(o.height ?? 6)
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, Value: true } } });
}

/** A distribution over time from histogram buckets (format heatmap), exemplars on top. */
export function heatmap(o: PanelOptions): HeatmapPanel {
  return new HeatmapPanel()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS)
    .targets(targets(o.queries))
    .span(o.span ?? 12)
    .height(o.height ?? 8)
    .calculate(false)
    .color(new HeatmapColorOptionsBuilder().mode(HeatmapColorMode.Scheme).scheme('Oranges').steps(64))
    .yAxis(new YAxisConfigBuilder().unit(o.unit ?? 's'))
    .exemplarsColor('rgba(31, 120, 193, 0.9)')
    .showLegend();
}

/** value → text and colour, for gauges that encode a state as a number. */
export function valueMappings(states: Record<string, { text: string; color: string }>): ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  for (const [index, [value, s]] of Object.entries(states).entries()) options[value] = { ...s, index };
  return [{ type: MappingType.ValueToText, options }];
}

export { PromQueryFormat };
