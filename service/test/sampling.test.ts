// The request path decides sampling without calling the SDK sampler
// (tracing/server-span.ts): these tests hold it to the SDK's decisions.
import {
  context,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  type TextMapGetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { readOtelEnv } from '../src/telemetry/tracing/otel-env.js';
import { PooledIdGenerator } from '../src/telemetry/tracing/pooled-id-generator.js';
import { startTracing, type Tracing } from '../src/telemetry/tracing/provider.js';
import { ratioUpperBound, SwitchableRatioSampler } from '../src/telemetry/tracing/switchable-sampler.js';

const RATIOS = [0, 1e-9, 0.1, 0.25, 0.5, 0.75, 0.999, 1];
const quietLog = { info: () => {}, warn: () => {} };

describe('ratio sampling from the id generator', () => {
  it('gives the hash the SDK derives from the trace id (XOR of its four 32-bit words)', () => {
    const ids = new PooledIdGenerator();
    for (let i = 0; i < 20_000; i++) {
      const id = ids.rootTraceId();
      let xor = 0;
      for (let w = 0; w < 32; w += 8) xor = (xor ^ Number.parseInt(id.slice(w, w + 8), 16)) >>> 0;
      expect(ids.rootTraceHash).toBe(xor);
    }
  });

  it('decides exactly as the SDK TraceIdRatioBasedSampler, at every ratio, across pool refills', () => {
    const ids = new PooledIdGenerator();
    const roots = Array.from({ length: 50_000 }, () => {
      const id = ids.rootTraceId();
      return { id, hash: ids.rootTraceHash };
    });
    for (const ratio of RATIOS) {
      const sdk = new TraceIdRatioBasedSampler(ratio);
      const ours = new SwitchableRatioSampler(ratio);
      let disagreements = 0;
      let sampled = 0;
      for (const { id, hash } of roots) {
        const want = sdk.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED;
        if (ours.sampledHash(hash) !== want) disagreements++;
        if (want) sampled++;
      }
      expect(disagreements, `ratio ${ratio}`).toBe(0);
      if (ratio === 0.5) expect(sampled / roots.length).toBeGreaterThan(0.45);
    }
  });

  it('places the bound where the SDK does, edge values included', () => {
    expect(ratioUpperBound(1)).toBe(0x100000000);
    expect(ratioUpperBound(2)).toBe(0x100000000);
    expect(ratioUpperBound(0)).toBe(0);
    expect(ratioUpperBound(-1)).toBe(0);
    expect(ratioUpperBound(Number.NaN)).toBe(0);
    expect(ratioUpperBound(0.5)).toBe(Math.floor(0.5 * 0xffffffff));
  });

  it('answers a decided trace id once, then asks the SDK sampler again', () => {
    const s = new SwitchableRatioSampler(0);
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    s.expectSampled(id);
    const args: Parameters<SwitchableRatioSampler['shouldSample']> = [
      ROOT_CONTEXT,
      id,
      'GET /',
      SpanKind.SERVER,
      {},
      [],
    ];
    expect(s.shouldSample(...args).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(s.shouldSample(...args).decision).toBe(SamplingDecision.NOT_RECORD);
    // A call for another id clears the expectation: it never outlives the next call.
    s.expectSampled(id);
    expect(
      s.shouldSample(ROOT_CONTEXT, 'ffffffffffffffffffffffffffffffff', 'x', SpanKind.SERVER, {}, []).decision,
    ).toBe(SamplingDecision.NOT_RECORD);
    expect(s.shouldSample(...args).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('server spans started by the request path', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  const start = async (sampler: string, ratio: string) => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing(
      readOtelEnv({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: ratio, OTEL_TRACES_EXPORTER: 'none' }),
      quietLog,
      { name: 'sampling-test', version: '0' },
      false,
      [new SimpleSpanProcessor(exporter)],
    );
    return { tracing, exporter };
  };

  for (const sampler of ['parentbased_traceidratio', 'traceidratio']) {
    it(`${sampler}: root spans are recorded exactly when the SDK sampler samples their trace id`, async () => {
      const { tracing, exporter } = await start(sampler, '0.3');
      const sdk = new TraceIdRatioBasedSampler(0.3);
      let recorded = 0;
      for (let i = 0; i < 3000; i++) {
        const span = tracing.serverSpans.start('GET /', ROOT_CONTEXT);
        const sc = span.spanContext();
        expect(sc.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(sc.spanId).toMatch(/^[0-9a-f]{16}$/);
        const want = sdk.shouldSample(ROOT_CONTEXT, sc.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
        expect(span.isRecording()).toBe(want);
        expect(sc.traceFlags & TraceFlags.SAMPLED).toBe(want ? TraceFlags.SAMPLED : 0);
        if (want) recorded++;
        span.end();
      }
      // Every recorded span reached the exporter, with the id it was decided on.
      expect(exporter.getFinishedSpans()).toHaveLength(recorded);
      expect(recorded).toBeGreaterThan(600);
      expect(recorded).toBeLessThan(1200);
    });
  }

  it('a remote parent decides for parentbased_traceidratio (sampled or not), whatever the ratio', async () => {
    const { tracing } = await start('parentbased_traceidratio', '0');
    const getter: TextMapGetter<Record<string, string>> = {
      get: (c, k) => c[k],
      keys: (c) => Object.keys(c),
    };
    const propagator = new W3CTraceContextPropagator();
    for (const flags of ['01', '00']) {
      const parent = propagator.extract(
        ROOT_CONTEXT,
        { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}` },
        getter,
      );
      const span = tracing.serverSpans.start('GET /', parent);
      expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span.isRecording()).toBe(flags === '01');
      span.end();
    }
  });

  it('a later ratio (hot reload) takes effect on the request path', async () => {
    const { tracing } = await start('parentbased_traceidratio', '0');
    const count = () => {
      let n = 0;
      for (let i = 0; i < 200; i++) {
        const span = tracing.serverSpans.start('GET /', context.active());
        if (span.isRecording()) n++;
        span.end();
      }
      return n;
    };
    expect(count()).toBe(0);
    tracing.ratio.set(1);
    expect(count()).toBe(200);
    expect(trace.getSpan(ROOT_CONTEXT)).toBeUndefined();
  });
});
