// A small dependency-free chart renderer: line charts (linear or log y, a
// linear or log x) and horizontal bar charts, emitted as inline SVG strings.
//
// Why not a chart library: the report must be one self-contained file that
// renders with no network and no script. Static SVG does that, prints, and
// diffs; a library bundle would add 50–200 KB of JavaScript to every report
// for zoom and tooltips (docs/load-testing.md has the measurements). Each
// point carries its value in a <title>, so hovering still shows numbers.
import { escapeMarkup } from '../lib/html.js';

export interface Series {
  name: string;
  color: string;
  /** [x, y]; y null leaves a gap. */
  points: Array<[number, number | null]>;
  dashed?: boolean;
  /** Plot against the right-hand axis (e.g. connections beside req/s). */
  right?: boolean;
  /** Draw each point as a dot as well (few points, e.g. ramp steps). */
  dots?: boolean;
}

export interface LineChartSpec {
  id: string;
  title: string;
  /** Left-axis unit, shown in the title and the tooltips. */
  unit: string;
  series: Series[];
  yScale?: 'linear' | 'log';
  xScale?: 'linear' | 'log';
  yMin?: number;
  yMax?: number;
  xLabel?: string;
  rightUnit?: string;
  /** Shaded x ranges (warm-ups, bursts). */
  bands?: Array<{ from: number; to: number; label: string; color?: string }>;
  /** Vertical marker lines (step changes, the knee). */
  markers?: Array<{ x: number; label: string }>;
  /** Break a line where consecutive points are further apart than this on x (missing samples), instead of bridging. */
  maxGapS?: number;
  /** Shown in place of the plot when no series has a point. */
  emptyText?: string;
  width?: number;
  height?: number;
}

const W = 900;
const H = 260;
const M = { top: 46, right: 64, bottom: 36, left: 64 };

/** A round tick step for a range split in about `count` parts (1, 2 or 5 × 10^k). */
export function niceStep(range: number, count: number): number {
  if (!(range > 0)) return 1;
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(4)}`;
  return `${+v.toPrecision(2)}`;
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  map: (v: number) => number;
}

function linearAxis(lo: number, hi: number, pxFrom: number, pxTo: number, fixedMin?: number, fixedMax?: number): Axis {
  let min = fixedMin ?? Math.min(0, lo);
  let max = fixedMax ?? hi;
  if (!(max > min)) max = min + 1;
  const step = niceStep(max - min, 5);
  if (fixedMin === undefined) min = Math.floor(min / step) * step;
  if (fixedMax === undefined) max = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = min; t <= max + step / 1e6; t += step) ticks.push(Number(t.toPrecision(12)));
  const map = (v: number) => pxFrom + ((v - min) / (max - min)) * (pxTo - pxFrom);
  return { min, max, ticks, map };
}

function logAxis(lo: number, hi: number, pxFrom: number, pxTo: number): Axis {
  const min = 10 ** Math.floor(Math.log10(Math.max(lo, 1e-6)));
  let max = 10 ** Math.ceil(Math.log10(Math.max(hi, min * 10)));
  if (max <= min) max = min * 10;
  const ticks: number[] = [];
  const decades = Math.log10(max / min);
  for (let d = min; d <= max * 1.0001; d *= 10) {
    ticks.push(d);
    // 2 and 5 between decades when there are few decades to show.
    if (decades <= 3 && d * 10 <= max * 1.0001) ticks.push(d * 2, d * 5);
  }
  ticks.sort((a, b) => a - b);
  const lmin = Math.log10(min);
  const lmax = Math.log10(max);
  const map = (v: number) => pxFrom + ((Math.log10(Math.max(v, min)) - lmin) / (lmax - lmin)) * (pxTo - pxFrom);
  return { min, max, ticks, map };
}

function extent(values: number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function legend(series: Series[], x: number, y: number): string {
  let cx = x;
  const items: string[] = [];
  for (const s of series) {
    items.push(
      `<g class="legend-item"><line x1="${cx}" y1="${y}" x2="${cx + 18}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>` +
        `<text x="${cx + 22}" y="${y + 4}">${escapeMarkup(s.name)}</text></g>`,
    );
    cx += 30 + s.name.length * 6.6;
  }
  return items.join('');
}

export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? W;
  const height = spec.height ?? H;
  const x0 = M.left;
  const x1 = width - M.right;
  const y0 = height - M.bottom;
  const y1 = M.top;
  const title = `<text class="chart-title" x="${x0}" y="16">${escapeMarkup(spec.title)}${spec.unit ? ` (${escapeMarkup(spec.unit)})` : ''}</text>`;
  const open = `<svg class="chart" data-chart="${escapeMarkup(spec.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeMarkup(spec.title)}">`;

  const drawn = spec.series.filter((s) => s.points.some(([, y]) => y !== null && Number.isFinite(y)));
  if (drawn.length === 0) {
    return `${open}${title}<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">${escapeMarkup(spec.emptyText ?? 'no data')}</text></svg>`;
  }
  const valid = (s: Series) => s.points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]));
  const xs = drawn.flatMap((s) => s.points.map(([x]) => x));
  const [xlo, xhi] = extent(xs);
  const xAxis =
    spec.xScale === 'log'
      ? logAxis(xlo, xhi, x0, x1)
      : linearAxis(xlo, xhi === xlo ? xlo + 1 : xhi, x0, x1, xlo, undefined);
  const leftVals = drawn.filter((s) => !s.right).flatMap((s) => valid(s).map(([, y]) => y));
  const rightVals = drawn.filter((s) => s.right).flatMap((s) => valid(s).map(([, y]) => y));
  const [llo, lhi] = leftVals.length ? extent(leftVals) : [0, 1];
  const yAxis =
    spec.yScale === 'log'
      ? logAxis(Math.max(llo, 1e-3), lhi, y0, y1)
      : linearAxis(llo, lhi, y0, y1, spec.yMin, spec.yMax ?? (lhi <= 0 ? 1 : undefined));
  const rAxis = rightVals.length ? linearAxis(0, extent(rightVals)[1], y0, y1) : null;

  const parts: string[] = [open, title];
  // Bands and grid first, so lines draw over them.
  for (const b of spec.bands ?? []) {
    const bx0 = Math.max(x0, xAxis.map(b.from));
    const bx1 = Math.min(x1, xAxis.map(b.to));
    if (bx1 <= bx0) continue;
    parts.push(
      `<rect class="band" x="${bx0.toFixed(1)}" y="${y1}" width="${(bx1 - bx0).toFixed(1)}" height="${y0 - y1}" fill="${b.color ?? '#9aa5b1'}" fill-opacity="0.15"><title>${escapeMarkup(b.label)}</title></rect>`,
      `<text class="band-label" x="${(bx0 + 3).toFixed(1)}" y="${y1 + 11}">${escapeMarkup(b.label)}</text>`,
    );
  }
  for (const t of yAxis.ticks) {
    const y = yAxis.map(t).toFixed(1);
    parts.push(`<line class="grid" x1="${x0}" y1="${y}" x2="${x1}" y2="${y}"/>`);
    parts.push(`<text class="tick" x="${x0 - 6}" y="${y}" dy="4" text-anchor="end">${formatTick(t)}</text>`);
  }
  if (rAxis) {
    for (const t of rAxis.ticks) {
      const y = rAxis.map(t).toFixed(1);
      parts.push(`<text class="tick right" x="${x1 + 6}" y="${y}" dy="4">${formatTick(t)}</text>`);
    }
    parts.push(`<text class="axis-label" x="${x1 + 6}" y="${y1 - 8}">${escapeMarkup(spec.rightUnit ?? '')}</text>`);
  }
  const xTicks = spec.xScale === 'log' ? xAxis.ticks : linearAxis(xlo, xhi === xlo ? xlo + 1 : xhi, x0, x1).ticks;
  for (const t of xTicks) {
    if (t < xAxis.min || t > xAxis.max) continue;
    const x = xAxis.map(t).toFixed(1);
    parts.push(`<line class="xtick" x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + 4}"/>`);
    parts.push(`<text class="tick" x="${x}" y="${y0 + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  parts.push(`<line class="axis" x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}"/>`);
  parts.push(`<line class="axis" x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/>`);
  if (spec.xLabel)
    parts.push(
      `<text class="axis-label" x="${x1}" y="${height - 4}" text-anchor="end">${escapeMarkup(spec.xLabel)}</text>`,
    );
  for (const m of spec.markers ?? []) {
    const x = xAxis.map(m.x);
    if (x < x0 || x > x1) continue;
    parts.push(
      `<line class="marker" x1="${x.toFixed(1)}" y1="${y1}" x2="${x.toFixed(1)}" y2="${y0}"/>`,
      `<text class="marker-label" x="${(x + 3).toFixed(1)}" y="${y0 - 6}">${escapeMarkup(m.label)}</text>`,
    );
  }

  for (const s of drawn) {
    const ya = s.right && rAxis ? rAxis : yAxis;
    let d = '';
    let pen = false;
    let count = 0;
    let lastX: number | null = null;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      if (spec.maxGapS !== undefined && lastX !== null && x - lastX > spec.maxGapS) pen = false;
      lastX = x;
      d += `${pen ? 'L' : 'M'}${xAxis.map(x).toFixed(1)} ${ya.map(y).toFixed(1)}`;
      pen = true;
      count++;
    }
    parts.push(
      `<path class="series" data-series="${escapeMarkup(s.name)}" data-points="${count}" d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.dashed ? 1.5 : 2}"${s.dashed ? ' stroke-dasharray="5 3"' : ''} stroke-linejoin="round"/>`,
    );
    // Invisible hover targets with the exact values: at most ~60 per series, which keeps a
    // report small (they were three quarters of its size at one per point).
    const unit = s.right ? (spec.rightUnit ?? '') : spec.unit;
    const pts = valid(s);
    const every = Math.max(1, Math.ceil(pts.length / 60));
    const dots: string[] = [];
    for (let i = 0; i < pts.length; i += every) {
      const [x, y] = pts[i] as [number, number];
      dots.push(
        `<circle class="${s.dots ? 'dot' : 'hit'}" cx="${xAxis.map(x).toFixed(0)}" cy="${ya.map(y).toFixed(0)}" r="${s.dots ? 3.5 : 5}"${s.dots ? ` fill="${s.color}"` : ''}><title>${escapeMarkup(s.name)} ${formatTick(x)}${escapeMarkup(spec.xLabel ?? '')}: ${formatTick(y)} ${escapeMarkup(unit)}</title></circle>`,
      );
    }
    parts.push(`<g class="points">${dots.join('')}</g>`);
  }
  parts.push(legend(drawn, x0, 32));
  parts.push('</svg>');
  return parts.join('');
}

export interface Bar {
  label: string;
  value: number;
  color: string;
}

/** Horizontal bars with their counts; for status codes and error kinds. */
export function barChart(spec: { id: string; title: string; bars: Bar[]; emptyText?: string; width?: number }): string {
  const width = spec.width ?? W;
  const rowH = 26;
  const height = 30 + Math.max(1, spec.bars.length) * rowH + 12;
  const parts = [
    `<svg class="chart" data-chart="${escapeMarkup(spec.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeMarkup(spec.title)}">`,
    `<text class="chart-title" x="${M.left}" y="16">${escapeMarkup(spec.title)}</text>`,
  ];
  if (spec.bars.length === 0) {
    parts.push(
      `<text class="empty" x="${width / 2}" y="${30 + 14}" text-anchor="middle">${escapeMarkup(spec.emptyText ?? 'none')}</text></svg>`,
    );
    return parts.join('');
  }
  const labelW = 150;
  const max = Math.max(...spec.bars.map((b) => b.value), 1);
  const x0 = M.left + labelW;
  const span = width - x0 - 120;
  const total = spec.bars.reduce((a, b) => a + b.value, 0);
  spec.bars.forEach((b, i) => {
    const y = 30 + i * rowH;
    // Tiny counts stay visible next to huge ones.
    const w = b.value > 0 ? Math.max(2, (b.value / max) * span) : 0;
    const share = total > 0 ? ` (${((b.value / total) * 100).toPrecision(3)}%)` : '';
    parts.push(
      `<text class="bar-label" x="${x0 - 8}" y="${y + 15}" text-anchor="end">${escapeMarkup(b.label)}</text>`,
      `<rect class="bar" data-bar="${escapeMarkup(b.label)}" x="${x0}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${b.color}"><title>${escapeMarkup(b.label)}: ${b.value}</title></rect>`,
      `<text class="bar-value" x="${(x0 + w + 6).toFixed(1)}" y="${y + 15}">${b.value.toLocaleString('en-US')}${share}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
