// The HTML report: one self-contained file (inline CSS and SVG, no script,
// no external reference — its Content-Security-Policy forbids any fetch), so
// it can be attached to a CI run, mailed, or opened years later. The full
// JSON result is embedded at the end for anyone who wants the raw numbers.
import { readFileSync } from 'node:fs';
import { escapeMarkup, scriptJson } from '../lib/html.js';
import { formatMiB } from '../lib/memory-limit.js';
import type { ClientSample, LoadResult, PhaseSummary, ServerSample } from '../lib/types.js';
import { type Bar, barChart, lineChart, type Series } from './svg-chart.js';

const CSS = readFileSync(new URL('./report.css', import.meta.url), 'utf8');

const C = {
  blue: '#2f6db5',
  orange: '#d9822b',
  green: '#2e8540',
  red: '#c0392b',
  purple: '#7d4cdb',
  grey: '#7b8794',
  teal: '#1b998b',
  gold: '#b7950b',
};

const MB = 1024 * 1024;
const num = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : num(v));
const pct = (v: number) => (v === 0 ? '0%' : v < 0.0001 ? '<0.01%' : `${(v * 100).toPrecision(3)}%`);
const esc = escapeMarkup;

function failuresOf(s: { status: Record<string, number>; errors: Record<string, number> }): number {
  let n = 0;
  for (const v of Object.values(s.errors)) n += v;
  for (const [code, v] of Object.entries(s.status)) if (code[0] !== '2') n += v;
  return n;
}

/** Shaded x ranges for warm-ups, and vertical lines where steps change. */
function timeline(client: ClientSample[]) {
  const bands: Array<{ from: number; to: number; label: string }> = [];
  const markers: Array<{ x: number; label: string }> = [];
  let prevStep: string | null = null;
  for (const s of client) {
    const from = s.t - s.windowS;
    if (s.warmup) {
      const last = bands.at(-1);
      if (last && Math.abs(last.to - from) < 0.5) last.to = s.t;
      else bands.push({ from, to: s.t, label: 'warm-up' });
    }
    if (s.step !== prevStep) {
      if (prevStep !== null || client.length > 0) markers.push({ x: from, label: s.step });
      prevStep = s.step;
    }
  }
  // One step: its name is in the title already.
  return { bands, markers: markers.length > 1 ? markers : [] };
}

function throughputChart(r: LoadResult): string {
  const { bands, markers } = timeline(r.client);
  const series: Series[] = [
    { name: 'client req/s', color: C.blue, points: r.client.map((s) => [s.t, s.rps]) },
    {
      name: 'connections',
      color: C.orange,
      right: true,
      dashed: true,
      points: r.client.map((s) => [s.t, s.connections]),
    },
  ];
  if (r.server.samples.some((s) => s.rps !== null)) {
    series.splice(1, 0, {
      name: 'server-counted req/s',
      color: C.grey,
      dashed: true,
      points: r.server.samples.map((s) => [s.t, s.rps]),
    });
  }
  return lineChart({
    id: 'throughput',
    title: 'Throughput',
    unit: 'req/s',
    rightUnit: 'connections',
    xLabel: 's',
    maxGapS: 3,
    series,
    bands,
    markers,
  });
}

function latencyChart(r: LoadResult): string {
  const { bands, markers } = timeline(r.client);
  const pick = (k: 'p50' | 'p90' | 'p99' | 'max') =>
    r.client.map((s): [number, number | null] => [s.t, s.latencyMs ? s.latencyMs[k] : null]);
  return lineChart({
    id: 'latency',
    title: 'Latency percentiles per second',
    unit: 'ms, log scale',
    yScale: 'log',
    xLabel: 's',
    maxGapS: 3,
    bands,
    markers,
    series: [
      { name: 'p50', color: C.green, points: pick('p50') },
      { name: 'p90', color: C.blue, points: pick('p90') },
      { name: 'p99', color: C.red, points: pick('p99') },
      { name: 'max', color: C.grey, dashed: true, points: pick('max') },
    ],
  });
}

function failureChart(r: LoadResult): string {
  const kinds = new Set<string>();
  for (const s of r.client) {
    for (const code of Object.keys(s.status)) if (code[0] !== '2') kinds.add(code);
    for (const k of Object.keys(s.errors)) kinds.add(k);
  }
  const palette = [C.red, C.orange, C.purple, C.gold, C.teal, C.grey];
  const series: Series[] = [...kinds].map((k, i) => ({
    name: /^\d+$/.test(k) ? `HTTP ${k}` : k,
    color: palette[i % palette.length] as string,
    points: r.client.map((s): [number, number] => [s.t, ((s.status[k] ?? 0) + (s.errors[k] ?? 0)) / (s.windowS || 1)]),
  }));
  if (r.server.samples.some((s) => (s.rejectedRps ?? 0) > 0)) {
    series.push({
      name: 'server: shed / rate-limited / deadline',
      color: C.grey,
      dashed: true,
      points: r.server.samples.map((s): [number, number | null] => [s.t, s.rejectedRps]),
    });
  }
  if (series.length === 0) {
    // Still a real chart: a flat line at zero says "measured, and none".
    series.push({ name: 'failures', color: C.green, points: r.client.map((s): [number, number] => [s.t, 0]) });
  }
  return lineChart({
    id: 'failures',
    title: 'Failures per second (non-2xx responses and request errors)',
    unit: '/s',
    xLabel: 's',
    maxGapS: 3,
    series,
    yMin: 0,
  });
}

function breakdownChart(r: LoadResult): string {
  const totals = new Map<string, number>();
  for (const s of r.client) {
    for (const [code, v] of Object.entries(s.status)) totals.set(`HTTP ${code}`, (totals.get(`HTTP ${code}`) ?? 0) + v);
    for (const [k, v] of Object.entries(s.errors)) totals.set(k, (totals.get(k) ?? 0) + v);
  }
  const bars: Bar[] = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, value]) => ({
      label,
      value,
      color: label.startsWith('HTTP 2') ? C.green : label.startsWith('HTTP 4') ? C.orange : C.red,
    }));
  return barChart({
    id: 'status',
    title: 'Responses by status and request errors (whole run, warm-ups included)',
    bars,
    emptyText: 'no responses',
  });
}

function serverCharts(r: LoadResult): string[] {
  const s = r.server.samples;
  if (s.length === 0) return [];
  const pts = (get: (x: ServerSample) => number | null, scale = 1) =>
    s.map((x): [number, number | null] => [x.t, get(x) === null ? null : (get(x) as number) / scale]);
  const { bands, markers } = timeline(r.client);
  const cpuMax = Math.max(1, ...s.map((x) => x.cpu ?? 0), ...r.client.map((c) => c.generatorCpu));
  return [
    lineChart({
      id: 'elu',
      title: 'Server: event-loop utilization, CPU and time in GC',
      unit: '1 = always busy / one core',
      xLabel: 's',
      maxGapS: 3,
      yMin: 0,
      yMax: Math.ceil(cpuMax * 4) / 4,
      bands,
      markers,
      series: [
        { name: 'ELU (per interval)', color: C.purple, points: pts((x) => x.elu) },
        { name: 'ELU gauge (10 s)', color: C.purple, dashed: true, points: pts((x) => x.eluGauge) },
        { name: 'process CPU', color: C.orange, points: pts((x) => x.cpu) },
        { name: 'GC', color: C.red, points: pts((x) => x.gcShare ?? null) },
        {
          name: 'generator CPU',
          color: C.grey,
          dashed: true,
          points: r.client.map((c): [number, number] => [c.t, c.generatorCpu]),
        },
      ],
    }),
    lineChart({
      id: 'eventloop-delay',
      title: 'Server: event-loop delay',
      unit: 'ms, log scale; includes the 10 ms sampling interval',
      yScale: 'log',
      xLabel: 's',
      maxGapS: 3,
      bands,
      markers,
      series: [
        { name: 'p50', color: C.green, points: pts((x) => x.lagP50Ms) },
        { name: 'p99', color: C.red, points: pts((x) => x.lagP99Ms) },
        { name: 'max', color: C.grey, dashed: true, points: pts((x) => x.lagMaxMs) },
      ],
    }),
    lineChart({
      id: 'memory',
      title: 'Server: memory',
      unit: 'MB',
      xLabel: 's',
      maxGapS: 3,
      yMin: 0,
      bands,
      markers,
      series: [
        { name: 'RSS', color: C.blue, points: pts((x) => x.rssBytes, MB) },
        { name: 'heap used', color: C.teal, points: pts((x) => x.heapUsedBytes, MB) },
      ],
    }),
    lineChart({
      id: 'active',
      title: 'Server: requests in flight, held connections, admission limit and open file descriptors',
      unit: 'count',
      xLabel: 's',
      maxGapS: 3,
      yMin: 0,
      bands,
      markers,
      series: [
        { name: 'active requests', color: C.red, points: pts((x) => x.activeRequests) },
        // Admission control: connections whose next request waits unread (service/src/resilience/admission-control.ts).
        { name: 'held connections', color: C.orange, points: pts((x) => x.heldConnections ?? null) },
        // The limit they are held at: maxInFlight, lowered while it holds and the loop queues (adaptive-limit.ts).
        { name: 'admission limit', color: C.purple, dashed: true, points: pts((x) => x.admissionLimit ?? null) },
        { name: 'open fds', color: C.grey, dashed: true, points: pts((x) => x.openFds) },
      ],
    }),
  ];
}

function kneeChart(r: LoadResult): string {
  if (r.analysis.kind !== 'knee' || r.analysis.steps.length === 0) return '';
  const a = r.analysis;
  const byRate = a.steps.every((s) => s.rate !== null);
  const x = (s: (typeof a.steps)[number]) => (byRate ? (s.rate as number) : s.connections);
  const markers = a.knee ? [{ x: byRate ? (a.knee.rate as number) : a.knee.connections, label: 'knee' }] : [];
  return lineChart({
    id: 'knee',
    title: 'Ramp: throughput and p99 per step',
    unit: 'req/s',
    rightUnit: 'p99 ms',
    xScale: 'log',
    xLabel: byRate ? 'offered req/s' : 'connections',
    markers,
    series: [
      { name: 'req/s', color: C.blue, dots: true, points: a.steps.map((s) => [x(s), s.rps]) },
      { name: 'p99 ms', color: C.red, dots: true, right: true, points: a.steps.map((s) => [x(s), s.p99Ms]) },
    ],
  });
}

function phaseRow(p: PhaseSummary, label = p.name): string {
  return `<tr><td>${esc(label)}</td><td>${num(p.connections)}</td><td>${p.rate === null ? '–' : num(p.rate)}</td><td>${num(p.measuredS, 1)}</td><td>${num(p.responses)}</td><td>${num(p.rps, 0)}</td><td>${ms(p.latencyMs.p50)}</td><td>${ms(p.latencyMs.p90)}</td><td>${ms(p.latencyMs.p99)}</td><td>${ms(p.latencyMs.p999)}</td><td>${ms(p.latencyMs.max)}</td><td>${num(p.failures)}</td><td>${pct(p.errorRatio)}</td><td>${p.server?.rpsPerCore ? num(p.server.rpsPerCore) : '–'}</td><td>${p.server?.eluMean == null ? '–' : p.server.eluMean.toFixed(2)}</td><td>${p.server?.gcShare == null ? '–' : pct(p.server.gcShare)}</td></tr>`;
}

function phasesTable(r: LoadResult): string {
  const head =
    '<tr><th>phase</th><th>connections</th><th>rate</th><th>measured s</th><th>responses</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>failures</th><th>error ratio</th><th title="responses per second of service CPU time">req/CPU-s</th><th>ELU</th><th title="share of service CPU time in garbage collection">GC</th></tr>';
  const rows = r.phases.map((p) => phaseRow(p));
  if (r.phases.length > 1) rows.push(phaseRow(r.summary, 'all phases'));
  return `<table data-table="phases">${head}${rows.join('')}</table><p class="note">Measured windows exclude each phase's warm-up. Latency is measured by the generator from request written to response complete (HdrHistogram, µs resolution). req/CPU-s: responses per second of the service's own CPU time — what one whole core would serve; steadier than req/s when other processes share the machine.</p>`;
}

function sloSection(r: LoadResult): string {
  const v = r.slo;
  if (v.verdict === 'none') {
    return `<p class="note">No objectives for <code>${esc(r.scenario)}</code>${v.file ? ` in <code>${esc(v.file)}</code>` : ' (no SLO file)'}.</p>`;
  }
  const rows = v.checks
    .map(
      (c) =>
        `<tr><td>${esc(c.objective)}</td><td class="l">${esc(c.detail)}</td><td class="${c.pass ? 'pass' : 'fail'}">${c.pass ? 'pass' : 'FAIL'}</td></tr>`,
    )
    .join('');
  return `<p class="sub">Judged on ${esc(v.subject)}, objectives from <code>${esc(v.file ?? '')}</code>.</p><table data-table="slo"><tr><th>objective</th><th class="l">measured vs limit</th><th>result</th></tr>${rows}</table>`;
}

function analysisText(r: LoadResult): string {
  const a = r.analysis;
  if (a.kind === 'none') return '';
  let extra = '';
  if (a.kind === 'knee') {
    extra = `<table data-table="steps"><tr><th>step</th><th>connections</th><th>offered rate</th><th>req/s</th><th>p99 ms</th><th>error ratio</th><th class="l">saturated?</th></tr>${a.steps
      .map(
        (s) =>
          `<tr><td>${esc(s.step)}</td><td>${num(s.connections)}</td><td>${s.rate === null ? '–' : num(s.rate)}</td><td>${num(s.rps)}</td><td>${ms(s.p99Ms)}</td><td>${pct(s.errorRatio)}</td><td class="l">${s.saturated ? `yes: ${esc(s.reason ?? '')}` : 'no'}</td></tr>`,
      )
      .join('')}</table>`;
  }
  return `<div class="analysis" data-analysis="${a.kind}"><strong>${esc(a.kind === 'baseline-ratio' ? 'Scaling' : a.kind[0]?.toUpperCase() + a.kind.slice(1))}:</strong> ${esc(a.verdict)}</div>${extra}`;
}

function envSection(r: LoadResult): string {
  const e = r.environment;
  const fd = (l: { soft: number; hard: number } | null) => (l ? `${num(l.soft)} (hard ${num(l.hard)})` : 'unknown');
  const rows: Array<[string, string]> = [
    ['target', `${r.settings.target}${r.settings.localService ? ' (started by the runner)' : ''}`],
    ['metrics', r.settings.adminUrl ? `${r.settings.adminUrl}/metrics every second` : 'not scraped (no --admin)'],
    ['machine', `${e.hostname}: ${e.cpus} × ${e.cpuModel}`],
    ['service node', e.serviceNode ?? 'n/a (remote target)'],
    ['generator node', e.generatorNode],
    ['CPU pinning', `service ${e.serviceCpus ?? 'unpinned'}, generator ${e.generatorCpus ?? 'unpinned'}`],
    ['open-files limit', `generator ${fd(e.fdLimits.generator)}; service ${fd(e.fdLimits.service)}`],
    [
      'service memory limit',
      e.serviceMemoryLimitBytes ? `${formatMiB(e.serviceMemoryLimitBytes)} (memory cgroup)` : 'none',
    ],
    [
      'load average',
      `${e.loadAvgBefore.map((v) => v.toFixed(2)).join(' ')} before → ${e.loadAvgAfter.map((v) => v.toFixed(2)).join(' ')} after`,
    ],
    [
      'other processes',
      e.otherCpuShare === null ? 'unknown' : `${pct(e.otherCpuShare)} of the machine's CPU during the run`,
    ],
    [
      'accept-queue overflows',
      e.listenOverflows == null
        ? 'unknown'
        : `${num(e.listenOverflows)} connection attempts dropped by the kernel (TcpExt ListenOverflows, whole machine)`,
    ],
    ['started', `${r.startedAt} → ${r.finishedAt}`],
  ];
  const notes = e.notes.length ? `<ul>${e.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<table class="env" data-table="environment">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="l">${esc(v)}</td></tr>`).join('')}</table>${notes}`;
}

function cards(r: LoadResult): string {
  const s = r.summary;
  const elus = r.server.samples.map((x) => x.elu).filter((v): v is number => v !== null);
  const card = (k: string, v: string) =>
    `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`;
  return `<div class="cards">${[
    card('throughput', `${num(s.rps)} req/s`),
    card('p50', `${ms(s.latencyMs.p50)} ms`),
    card('p99', `${ms(s.latencyMs.p99)} ms`),
    card('failures', `${num(s.failures)} (${pct(s.errorRatio)})`),
    card('peak RSS', r.server.peakRssBytes === null ? 'n/a' : `${num(r.server.peakRssBytes / MB)} MB`),
    card('max ELU', elus.length ? Math.max(...elus).toFixed(2) : 'n/a'),
  ].join('')}</div>`;
}

export function renderReport(r: LoadResult): string {
  const verdict = r.slo.verdict;
  const label = verdict === 'pass' ? 'SLO pass' : verdict === 'fail' ? 'SLO FAIL' : 'no SLO';
  const total = r.client.reduce((a, s) => a + s.responses, 0);
  const failed = r.client.reduce((a, s) => a + failuresOf(s), 0);
  const warnings: string[] = [];
  if (!r.complete)
    warnings.push(`The run did not complete (${r.interruption ?? 'interrupted'}); the figures cover what ran.`);
  if (r.server.scrapeErrors > 0)
    warnings.push(
      `${r.server.scrapeErrors} /metrics scrapes failed or timed out (the admin port shares the event loop with the load).`,
    );
  if (r.environment.listenOverflows) {
    // (absent in results written before this field existed)
    warnings.push(
      `The kernel dropped ${num(r.environment.listenOverflows)} connection attempts on full accept queues during the run: connections were opened faster than the server accepted them (listen backlog), and clients waited for SYN retries.`,
    );
  }
  if (r.environment.otherCpuShare !== null && r.environment.otherCpuShare > 0.1) {
    warnings.push(
      `Other processes used ${pct(r.environment.otherCpuShare)} of the machine's CPU during the run: figures are noisy.`,
    );
  }
  // The JSON may contain "</script>" inside strings only if a route does.
  const data = scriptJson(r);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load report: ${esc(r.scenario)} — ${esc(r.startedAt)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>Load report: ${esc(r.scenario)} <span class="verdict ${verdict}" data-verdict="${verdict}">${label}</span></h1>
<p class="sub">${esc(r.description)}<br>${esc(r.settings.target)} · ${esc(r.summary.route)} · ${num(total)} responses, ${num(failed)} failed · ${esc(r.startedAt)}</p>
${warnings.map((w) => `<div class="warn">${esc(w)}</div>`).join('\n')}
${cards(r)}
${analysisText(r)}
<h2>SLO</h2>
${sloSection(r)}
<h2>Phases</h2>
${phasesTable(r)}
<h2>Client side</h2>
${throughputChart(r)}
${latencyChart(r)}
${failureChart(r)}
${breakdownChart(r)}
${kneeChart(r)}
<h2>Server side</h2>
${serverCharts(r).join('\n') || '<p class="note">No server series: the admin /metrics was not scraped (pass --admin URL when using --target).</p>'}
<p class="note">Scraped from /metrics once a second. ELU per interval is the rate of nodejs_eventloop_active_seconds_total; the gauge is the service's own 10-second nodejs_eventloop_utilization_ratio. Peak RSS ${r.server.peakRssBytes === null ? 'n/a' : `${num(r.server.peakRssBytes / MB, 1)} MB`} (${esc(r.server.peakRssSource ?? 'n/a')}).</p>
<h2>Environment</h2>
${envSection(r)}
<h2>Reproduce</h2>
<pre>${esc(r.settings.command)}</pre>
<p class="note">Files: ${esc(r.files.json)}${r.files.serverLog ? `, ${esc(r.files.serverLog)}` : ''}. The full result is embedded below as JSON (script type application/json, never executed).</p>
<script type="application/json" id="load-result">${data}</script>
</body>
</html>
`;
}
