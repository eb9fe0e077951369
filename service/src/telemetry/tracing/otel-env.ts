// The standard OTEL_* variables this service reads itself, parsed as the
// OpenTelemetry specification defines them. (Exporter endpoint, headers,
// timeout and compression, batch-processor and span-limit variables are read
// by the SDK packages themselves.) Unknown values are warned about and the
// default is used, as the specification asks; they never stop the process.

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export type ExporterName = 'otlp' | 'console' | 'none';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtelSettings {
  disabled: boolean;
  sampler: SamplerName;
  /** Root sampling ratio for the *traceidratio samplers. */
  ratio: number;
  exporters: ExporterName[];
  /** Why the exporter list is what it is, for the start-up log line. */
  exporterReason: string;
  protocol: OtlpProtocol;
  propagators: Array<'tracecontext' | 'baggage'>;
  warnings: string[];
}

/** Periscope's default when OTEL_TRACES_SAMPLER is unset: parent-based, 10% of new traces. */
export const DEFAULT_RATIO = 0.1;

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

export function readOtelEnv(env: NodeJS.ProcessEnv = process.env): OtelSettings {
  const warnings: string[] = [];
  const disabled = (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';

  // Sampler. The spec's default is parentbased_always_on; this template
  // defaults to parentbased_traceidratio at 10% (DESIGN.md), which is what
  // "leave it on in production" needs. Setting the variable restores any choice.
  let sampler: SamplerName = 'parentbased_traceidratio';
  const rawSampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (rawSampler) {
    if ((SAMPLERS as readonly string[]).includes(rawSampler)) sampler = rawSampler as SamplerName;
    else
      warnings.push(
        `OTEL_TRACES_SAMPLER="${rawSampler}" is not supported here (${SAMPLERS.join(', ')}); using ${sampler}`,
      );
  }
  let ratio = rawSampler ? 1 : DEFAULT_RATIO;
  const rawArg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (rawArg) {
    const n = Number(rawArg);
    if (Number.isFinite(n) && n >= 0 && n <= 1) ratio = n;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG="${rawArg}" is not a number in [0, 1]; using ${ratio}`);
  }

  // Exporters. With nothing configured at all, a local run exports nowhere
  // (and says so once) instead of retrying localhost:4318 forever; any
  // OTLP endpoint variable, or OTEL_TRACES_EXPORTER=otlp, turns OTLP on.
  let exporters: ExporterName[];
  let exporterReason: string;
  const rawExporters = list(env.OTEL_TRACES_EXPORTER);
  if (rawExporters.length) {
    exporters = [];
    for (const e of rawExporters) {
      if (e === 'otlp' || e === 'console' || e === 'none') exporters.push(e);
      else warnings.push(`OTEL_TRACES_EXPORTER value "${e}" is not supported here (otlp, console, none); ignored`);
    }
    if (exporters.includes('none')) exporters = [];
    exporterReason = 'OTEL_TRACES_EXPORTER';
  } else if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    exporters = ['otlp'];
    exporterReason = 'OTLP endpoint set';
  } else {
    exporters = [];
    exporterReason = 'no OTEL_EXPORTER_OTLP_ENDPOINT set';
  }

  let protocol: OtlpProtocol = 'http/protobuf';
  const rawProtocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim().toLowerCase();
  if (rawProtocol) {
    if (rawProtocol === 'http/protobuf' || rawProtocol === 'http/json') protocol = rawProtocol;
    else
      warnings.push(
        `OTLP protocol "${rawProtocol}" is not supported here (http/protobuf, http/json; gRPC is left out to keep start-up light); using http/protobuf`,
      );
  }

  let propagators: OtelSettings['propagators'] = ['tracecontext', 'baggage'];
  const rawPropagators = list(env.OTEL_PROPAGATORS);
  if (rawPropagators.length) {
    propagators = [];
    for (const p of rawPropagators) {
      if (p === 'tracecontext' || p === 'baggage') propagators.push(p);
      else if (p !== 'none')
        warnings.push(`OTEL_PROPAGATORS value "${p}" is not supported here (tracecontext, baggage, none); ignored`);
    }
    if (rawPropagators.includes('none')) propagators = [];
  }

  return { disabled, sampler, ratio, exporters, exporterReason, protocol, propagators, warnings };
}
