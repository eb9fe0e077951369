// A labelled histogram for the per-request hot path.
//
// prom-client's Histogram hashes the label object on every observe() (sort,
// string building, validation), which showed up as the largest single cost
// of the request-metrics path in the overhead benchmark (see README,
// Performance). Here a caller resolves its label values to a Series once and
// keeps it (per route, per status code), so an observation is a short linear
// bucket scan and three additions, with no allocation.
//
// It registers with prom-client's Registry and exposes the same `get()` shape
// as prom-client metrics, so exposition treats both alike.
import type { MetricSpec } from './catalog.js';

export interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  /** Seconds since the epoch, as OpenMetrics wants. */
  timestamp: number;
}

export interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  exemplar?: Exemplar | null;
}

export interface MetricSnapshot {
  name: string;
  help: string;
  type: string;
  values: MetricValue[];
  aggregator: string;
}

export class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly exemplars: Array<Exemplar | undefined>;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.exemplars = new Array(bounds.length + 1);
  }

  #bucket(value: number): number {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    return i;
  }

  observe(value: number): void {
    const i = this.#bucket(value);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  /** Observe and keep (trace_id, span_id) as the bucket's exemplar. */
  observeWithExemplar(value: number, traceId: string, spanId: string): void {
    const i = this.#bucket(value);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
    this.exemplars[i] = { labelSet: { trace_id: traceId, span_id: spanId }, value, timestamp: Date.now() / 1000 };
  }
}

export class LabeledHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly bounds: readonly number[];
  readonly #labelNames: readonly string[];
  readonly #series = new Map<string, Series>();

  constructor(spec: MetricSpec) {
    if (spec.type !== 'histogram' || !spec.buckets) throw new Error(`${spec.name} is not a histogram in the catalog`);
    this.name = spec.name;
    this.help = spec.help;
    this.bounds = spec.buckets;
    this.#labelNames = spec.labels;
  }

  /** The series for these label values (in catalog label order); cache the result. */
  series(...values: string[]): Series {
    if (values.length !== this.#labelNames.length) {
      throw new Error(`${this.name} takes ${this.#labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join('\u0000');
    let s = this.#series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((n, i) => {
        labels[n] = values[i] as string;
      });
      s = new Series(labels, this.bounds);
      this.#series.set(key, s);
    }
    return s;
  }

  get seriesCount(): number {
    return this.#series.size;
  }

  reset(): void {
    this.#series.clear();
  }

  /** Same shape as prom-client's Histogram#get(). */
  async get(): Promise<MetricSnapshot> {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i] as number;
        values.push({
          labels: { ...s.labels, le: i < this.bounds.length ? (this.bounds[i] as number) : '+Inf' },
          value: cumulative,
          metricName: bucketName,
          exemplar: s.exemplars[i] ?? null,
        });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
