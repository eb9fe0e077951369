// Small pure parts: chart rendering, connection ramps, CPU lists, limit explanations, CLI parsing.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../cli.js';
import { parseCpuList } from '../lib/cpus.js';
import { holdingRequests, rampChunks } from '../lib/generator/ramp.js';
import { explainFdShortfall, explainPortShortfall, planNofile } from '../lib/limits.js';
import { memoryCgroupPrefix, parseMemoryLimit } from '../lib/memory-limit.js';
import { serverSide, UsageError } from '../lib/run.js';
import type { ClientSample, PhaseSummary, ServerSample } from '../lib/types.js';
import { barChart, formatTick, lineChart, niceStep } from '../report/svg-chart.js';
import { c10k } from '../scenarios/c10k.js';
import { slope } from '../scenarios/soak.js';
import { burstWindow } from '../scenarios/spike.js';

describe('svg charts', () => {
  it('draws one path per series, breaking lines at gaps', () => {
    const svg = lineChart({
      id: 't',
      title: 'T',
      unit: 'ms',
      series: [
        {
          name: 'a',
          color: '#000',
          points: [
            [0, 1],
            [1, null],
            [2, 3],
            [3, 4],
          ],
        },
        {
          name: 'b',
          color: '#f00',
          points: [
            [0, 2],
            [3, 5],
          ],
        },
      ],
    });
    expect(svg.match(/<path class="series"/g)).toHaveLength(2);
    expect(svg).toMatch(/data-series="a" data-points="3" d="M[\d. ]+M[\d. ]+L[\d. ]+"/);
    expect(svg).not.toMatch(/https?:/);
  });

  it('breaks a time series where samples are missing instead of bridging the hole', () => {
    const points: Array<[number, number]> = [
      [1, 1],
      [2, 2],
      [9, 3],
      [10, 4],
    ];
    const bridged = lineChart({ id: 'g', title: 'G', unit: '', series: [{ name: 'a', color: '#000', points }] });
    const broken = lineChart({
      id: 'g',
      title: 'G',
      unit: '',
      maxGapS: 3,
      series: [{ name: 'a', color: '#000', points }],
    });
    const moves = (svg: string) => (svg.match(/d="([^"]*)"/)?.[1]?.match(/M/g) ?? []).length;
    expect(moves(bridged)).toBe(1);
    expect(moves(broken)).toBe(2);
  });

  it('says so instead of drawing an empty plot', () => {
    const svg = lineChart({
      id: 'e',
      title: 'E',
      unit: '',
      series: [{ name: 'a', color: '#000', points: [[0, null]] }],
      emptyText: 'nothing',
    });
    expect(svg).toContain('nothing');
    expect(svg).not.toContain('class="series"');
  });

  it('escapes text and draws bars with shares', () => {
    const svg = barChart({
      id: 'b',
      title: '<x>',
      bars: [
        { label: 'HTTP 200', value: 3, color: '#0f0' },
        { label: 'a&b', value: 1, color: '#f00' },
      ],
    });
    expect(svg).toContain('&lt;x&gt;');
    expect(svg).toContain('a&amp;b');
    expect(svg).toContain('3 (75.0%)');
  });

  it('picks round ticks', () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(7, 5)).toBe(1);
    expect(niceStep(9, 5)).toBe(2);
    expect(formatTick(12_500)).toBe('12.5k');
    expect(formatTick(0.25)).toBe('0.25');
  });
});

describe('connection ramp', () => {
  it('opens connections in half-second chunks that add up', () => {
    const chunks = rampChunks({ connections: 10_000, durationS: 50, rampS: 20 });
    expect(chunks).toHaveLength(40);
    expect(chunks.reduce((n, c) => n + c.connections, 0)).toBe(10_000);
    expect(chunks.at(-1)?.offsetS).toBe(19.5);
    expect(rampChunks({ connections: 7, durationS: 5, rampS: 10 }).reduce((n, c) => n + c.connections, 0)).toBe(7);
    expect(rampChunks({ connections: 100, durationS: 5 })).toEqual([{ connections: 100, offsetS: 0 }]);
  });
});

describe('connection hold', () => {
  it('parks requests on the hold path until the release, then sends the real ones', () => {
    const now = Date.now();
    const [req] = holdingRequests(
      [{ method: 'POST', path: '/api/echo', body: '{"message":"x"}', headers: { 'content-type': 'application/json' } }],
      { untilS: 3, path: '/api/sleep?ms=' },
      now,
      10,
    );
    const parked = req?.setupRequest({ method: 'POST', path: '/api/echo', body: '{"message":"x"}' });
    expect(parked?.method).toBe('GET');
    expect(parked?.path).toMatch(/^\/api\/sleep\?ms=(29\d\d|3000)$/);
    expect(parked?.body).toBe('');
    const [late] = holdingRequests([{ method: 'GET', path: '/x' }], { untilS: 3, path: '/p?ms=' }, now - 5000, 10);
    expect(late?.setupRequest({ method: 'GET', path: '/x' }).path).toBe('/x');
  });

  it('never parks longer than the request timeout allows', () => {
    const [req] = holdingRequests([{ method: 'GET', path: '/x' }], { untilS: 60, path: '/p?ms=' }, Date.now(), 10);
    expect(req?.setupRequest({ method: 'GET', path: '/x' }).path).toBe('/p?ms=8500');
  });
});

describe('scenario helpers', () => {
  it('places the spike burst in the second quarter, after warm-up', () => {
    expect(burstWindow(40)).toEqual({ startS: 13, durationS: 10 });
  });

  it('fits a least-squares slope', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBe(2);
    expect(slope([[0, 1]])).toBeNull();
  });
});

describe('limits', () => {
  it('explains an open-files shortfall with the numbers', () => {
    const text = explainFdShortfall('generator', { soft: 1024, hard: 4096 }, 10_000);
    expect(text).toMatch(/may open 1024 files \(soft limit; hard limit 4096\)/);
    expect(text).toMatch(/10,000 connections need about 10,256/);
    expect(explainFdShortfall('service', { soft: 20_000, hard: 20_000 }, 10_000)).toBeNull();
  });

  it('explains too few ephemeral ports', () => {
    expect(explainPortShortfall(10_000, 5000)).toMatch(/5000 local ports/);
    expect(explainPortShortfall(10_000, 28_232)).toBeNull();
  });

  it('gives children the hard limit, and more only where it may', () => {
    expect(planNofile(500, { soft: 1024, hard: 4096 }).target).toBe(4096);
    if (process.getuid?.() === 0) {
      expect(planNofile(10_256, { soft: 1024, hard: 4096 }, () => false).target).toBe(4096);
      expect(planNofile(10_256, { soft: 1024, hard: 4096 }, () => true).target).toBe(10_256);
    }
  });
});

describe('cpu lists', () => {
  it('expands ranges and rejects junk', () => {
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(() => parseCpuList('a')).toThrow(/not a CPU list/);
  });
});

describe('cli', () => {
  it('maps flags onto run options', () => {
    const p = parseCli([
      'c10k',
      '--connections',
      '5000',
      '--duration',
      '10',
      '--route',
      '/api/sleep?ms=5',
      '--no-slo',
      '--service-env',
      'ACCESS_LOG=off',
    ]);
    expect(p).not.toBe('help');
    if (p === 'help') return;
    expect(p.scenario).toBe('c10k');
    expect(p.options).toMatchObject({
      connections: 5000,
      durationS: 10,
      route: '/api/sleep?ms=5',
      sloFile: null,
      serviceEnv: { ACCESS_LOG: 'off' },
    });
    expect(p.options.command).toBe(
      "npm run load -- c10k --connections 5000 --duration 10 --route '/api/sleep?ms=5' --no-slo --service-env ACCESS_LOG=off",
    );
  });

  it('rejects bad input with a clear message', () => {
    expect(() => parseCli([])).toThrow(/expected one scenario/);
    expect(() => parseCli(['smoke', '--connections', 'many'])).toThrow(UsageError);
    expect(() => parseCli(['smoke', '--admin', 'http://x:1'])).toThrow(/--admin goes with --target/);
    expect(() => parseCli(['smoke', '--bogus'])).toThrow(/Unknown option/);
  });

  it('reads --service-memory as a pod would write it, and refuses what cannot be meant', () => {
    const p = parseCli(['c10k', '--service-memory', '512Mi']);
    expect(p !== 'help' && p.options.serviceMemoryBytes).toBe(536_870_912);
    expect(parseMemoryLimit('1Gi')).toBe(1024 ** 3);
    expect(parseMemoryLimit('600M')).toBe(600e6);
    expect(parseMemoryLimit('134217728')).toBe(134_217_728);
    expect(() => parseMemoryLimit('512MB')).toThrow(/quantity like 512Mi/);
    expect(() => parseMemoryLimit('16Mi')).toThrow(/below 64Mi/);
    expect(() => parseCli(['smoke', '--service-memory', '512Mi', '--target', 'http://x:1'])).toThrow(
      /applies to the local service/,
    );
    expect(memoryCgroupPrefix(undefined)).toEqual([]);
    expect(memoryCgroupPrefix(536_870_912).slice(-2)).toEqual([
      expect.stringMatching(/load\/lib\/memory-cgroup\.sh$/),
      '536870912',
    ]);
  });
});

describe('server side of a phase', () => {
  const sample = (t: number, cpu: number | null, elu: number | null): ServerSample => ({
    t,
    elu,
    eluGauge: null,
    lagP50Ms: null,
    lagP99Ms: null,
    lagMaxMs: null,
    heapUsedBytes: null,
    rssBytes: null,
    activeRequests: null,
    heldConnections: null,
    admissionLimit: null,
    cpu,
    gcShare: null,
    openFds: null,
    rps: null,
    rejectedRps: null,
    scrapeMs: 1,
  });

  it('integrates CPU over the measured window only, and derives responses per CPU-second', () => {
    const samples = [
      sample(0, null, null),
      sample(1, 0.2, 0.2),
      sample(2, 0.5, 0.5),
      sample(3, 0.5, 1),
      sample(4, 0.9, 1),
    ];
    // Measured from t = 1.5 s to t = 3.5 s after a run start at epoch 1000 ms.
    const phase = { measuredFrom: 2500, measuredTo: 4500, responses: 1000 } as PhaseSummary;
    const s = serverSide(phase, samples, 1000);
    expect(s?.cpuSeconds).toBe(1.2); // 0.5 × 0.5 s + 0.5 × 1 s + 0.9 × 0.5 s
    expect(s?.rpsPerCore).toBe(833);
    expect(s?.eluMean).toBe(0.875);
    expect(s?.gcShare).toBeNull();
  });

  it('has nothing to say when the scrapes do not cover the window', () => {
    const phase = { measuredFrom: 10_000, measuredTo: 20_000, responses: 5 } as PhaseSummary;
    expect(serverSide(phase, [sample(0, null, null), sample(1, 1, 1)], 0)).toBeNull();
  });
});

describe('c10k analysis', () => {
  const step = (name: string, connections: number, rps: number, rpsPerCore: number) =>
    ({
      step: name,
      connections,
      rps,
      server: { cpuSeconds: 10, rpsPerCore, eluMean: 1, gcShare: 0.05 },
    }) as PhaseSummary;
  const phases = [step('baseline', 1000, 10_000, 12_000), step('full', 10_000, 9_500, 9_000)];
  const second = (s: string, warmup: boolean, generatorCpu: number) =>
    ({ step: s, warmup, generatorCpu, generatorElu: generatorCpu }) as ClientSample;
  const analyze = (client: ClientSample[]) =>
    c10k.analyze?.({ options: {} as never, phases, client, server: [], runStart: 0 });

  it('gives the ratio of the two steps and per CPU-second', () => {
    const a = analyze([second('baseline', false, 0.7), second('baseline', false, 0.8)]);
    expect(a).toMatchObject({
      kind: 'baseline-ratio',
      ratio: 0.95,
      perCore: { ratio: 0.75 },
      baselineGeneratorCpu: 0.75,
    });
    expect(a && 'verdict' in a ? a.verdict : '').not.toMatch(/paced by the load generator/);
  });

  it('takes the ratio against the mean of the references before and after, and flags a drifting machine', () => {
    const run = (afterRps: number) =>
      c10k.analyze?.({
        options: {} as never,
        phases: [...phases, step('after', 1000, afterRps, 13_000)],
        client: [],
        server: [],
        runStart: 0,
      });
    const steady = run(9_000);
    expect(steady).toMatchObject({
      ratio: 1,
      baseline: { rps: 9_500, before: 10_000, after: 9_000 },
      perCore: { baseline: 12_500, ratio: 0.72 },
      referenceDrift: 0.105,
    });
    const verdict = (a: typeof steady) => (a && 'verdict' in a ? a.verdict : '');
    expect(verdict(steady)).toMatch(/mean of 10,000 req\/s before and 9,000 after/);
    expect(verdict(steady)).not.toMatch(/speed changed/);
    const drifted = run(6_000);
    expect(drifted).toMatchObject({ ratio: 1.188, referenceDrift: 0.5 });
    expect(verdict(drifted)).toMatch(/reference steps differ by 50%: the machine's speed changed/);
    // Without the second reference (a run stopped early) the first one stands alone.
    expect(analyze([])).toMatchObject({ ratio: 0.95, referenceDrift: null, baseline: { after: null } });
  });

  it('says so when the load generator, not the service, paced the reference step', () => {
    // Warm-up seconds do not count.
    const a = analyze([
      second('baseline', true, 0.2),
      second('baseline', false, 0.97),
      second('baseline', false, 0.99),
    ]);
    expect(a).toMatchObject({ baselineGeneratorCpu: 0.98, fullGeneratorCpu: null });
    expect(a && 'verdict' in a ? a.verdict : '').toMatch(/paced by the load generator \(its core 98% busy\)/);
  });

  it('says so when the load generator paced the 10,000-connection step (the ratio then understates the service)', () => {
    const a = analyze([
      second('baseline', false, 0.8),
      second('full', true, 0.3),
      second('full', false, 0.96),
      second('full', false, 0.98),
    ]);
    expect(a).toMatchObject({ baselineGeneratorCpu: 0.8, fullGeneratorCpu: 0.97 });
    const verdict = a && 'verdict' in a ? a.verdict : '';
    expect(verdict).toMatch(/10,000-connection step was paced by the load generator \(its core 97% busy\)/);
    expect(verdict).not.toMatch(/reference step was paced/);
  });
});
