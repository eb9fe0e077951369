// Scrapes the service's admin /metrics once a second during a run and keeps
// the series the report charts: event-loop utilization and delay, heap, RSS,
// active requests, CPU, open files, and the server's own request rate.
//
// Counters become per-interval rates here (ELU = Δ nodejs_eventloop_active_
// seconds_total / Δ wall time). prom-client resets its event-loop delay
// histogram on every collect, so each scrape's lag percentiles cover exactly
// the last interval — provided nothing else scrapes the same process at the
// same time (a Prometheus scraping it too would split the intervals).
import { type PromSample, parsePrometheusText, sumOf } from './prometheus.js';
import type { ServerSample } from './types.js';

const REJECTION_COUNTERS = [
  'http_server_shed_requests_total',
  'http_server_rate_limited_requests_total',
  'http_server_deadline_exceeded_total',
];

interface Counters {
  at: number;
  eluActive: number | null;
  cpu: number | null;
  requests: number | null;
  rejected: number | null;
  gc: number | null;
}

function rate(now: number | null, before: number | null, seconds: number): number | null {
  if (now === null || before === null || seconds <= 0) return null;
  // A counter that went down means the process restarted: no rate for this interval.
  return now >= before ? (now - before) / seconds : null;
}

const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));
const ms = (seconds: number | null) => (seconds === null ? null : round(seconds * 1000, 3));

/** Reduces one scrape (plus the previous one's counters) to a ServerSample. */
export function toServerSample(
  samples: readonly PromSample[],
  at: number,
  runStart: number,
  scrapeMs: number,
  prev: Counters | null,
): { sample: ServerSample; counters: Counters } {
  const rejectedParts = REJECTION_COUNTERS.map((n) => sumOf(samples, n)).filter((v): v is number => v !== null);
  const counters: Counters = {
    at,
    eluActive: sumOf(samples, 'nodejs_eventloop_active_seconds_total'),
    cpu: sumOf(samples, 'process_cpu_seconds_total'),
    requests: sumOf(samples, 'http_server_request_duration_seconds_count'),
    rejected: rejectedParts.length ? rejectedParts.reduce((a, b) => a + b, 0) : null,
    gc: sumOf(samples, 'nodejs_gc_duration_seconds_sum'),
  };
  const dt = prev ? (at - prev.at) / 1000 : 0;
  // An interval in which the delay monitor's timer never fired reports min > max
  // (an empty histogram): no delay figure for it — the next interval's max
  // carries the long stall.
  const lagMin = sumOf(samples, 'nodejs_eventloop_lag_min_seconds');
  const lagMaxS = sumOf(samples, 'nodejs_eventloop_lag_max_seconds');
  const lagEmpty = lagMin !== null && lagMaxS !== null && lagMin > lagMaxS;
  const lag = (name: string) => (lagEmpty ? null : ms(sumOf(samples, name)));
  const elu = rate(counters.eluActive, prev?.eluActive ?? null, dt);
  return {
    counters,
    sample: {
      t: round((at - runStart) / 1000, 3) as number,
      elu: elu === null ? null : round(Math.min(1, Math.max(0, elu)), 4),
      eluGauge: round(sumOf(samples, 'nodejs_eventloop_utilization_ratio'), 4),
      lagP50Ms: lag('nodejs_eventloop_lag_p50_seconds'),
      lagP99Ms: lag('nodejs_eventloop_lag_p99_seconds'),
      lagMaxMs: lag('nodejs_eventloop_lag_max_seconds'),
      heapUsedBytes: sumOf(samples, 'nodejs_heap_size_used_bytes'),
      rssBytes: sumOf(samples, 'process_resident_memory_bytes'),
      activeRequests: sumOf(samples, 'http_server_active_requests'),
      heldConnections: sumOf(samples, 'http_server_held_connections'),
      admissionLimit: sumOf(samples, 'http_server_admission_limit'),
      cpu: round(rate(counters.cpu, prev?.cpu ?? null, dt), 4),
      gcShare: round(rate(counters.gc, prev?.gc ?? null, dt), 4),
      openFds: sumOf(samples, 'process_open_fds'),
      rps: round(rate(counters.requests, prev?.requests ?? null, dt), 1),
      rejectedRps: round(rate(counters.rejected, prev?.rejected ?? null, dt), 1),
      scrapeMs: Math.round(scrapeMs),
    },
  };
}

export class MetricsScraper {
  readonly samples: ServerSample[] = [];
  errors = 0;
  lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #prev: Counters | null = null;

  constructor(
    readonly metricsUrl: string,
    readonly runStart: number,
    readonly intervalMs = 1000,
    readonly onSample: (s: ServerSample) => void = () => {},
  ) {}

  /** The latest sample, for the progress line. */
  get last(): ServerSample | undefined {
    return this.samples.at(-1);
  }

  start(): void {
    void this.#scrape();
    this.#timer = setInterval(() => {
      // Under heavy load a scrape can take longer than the interval (the admin
      // port shares the event loop): skip a tick rather than pile up requests.
      if (!this.#inFlight) void this.#scrape();
    }, this.intervalMs);
  }

  #scrape(): Promise<void> {
    const started = Date.now();
    this.#inFlight = (async () => {
      try {
        const res = await fetch(this.metricsUrl, {
          headers: { accept: 'text/plain' },
          // Generous: under 10,000 connections the admin port waits its turn on the busy event
          // loop for seconds; a late scrape still covers its interval (rates use real timestamps).
          signal: AbortSignal.timeout(Math.max(5000, this.intervalMs * 5)),
        });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        const text = await res.text();
        const at = Date.now();
        const { sample, counters } = toServerSample(
          parsePrometheusText(text),
          at,
          this.runStart,
          at - started,
          this.#prev,
        );
        this.#prev = counters;
        this.samples.push(sample);
        this.onSample(sample);
      } catch (err) {
        this.errors++;
        this.lastError = (err as Error).message;
      } finally {
        this.#inFlight = null;
      }
    })();
    return this.#inFlight;
  }

  /** Stops scraping after one last scrape, so the series covers the end of the load. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#inFlight) await this.#inFlight;
    await this.#scrape();
  }
}
