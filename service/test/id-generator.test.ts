import { describe, expect, it } from 'vitest';
import { PooledIdGenerator } from '../src/telemetry/tracing/pooled-id-generator.js';

describe('PooledIdGenerator', () => {
  it('makes W3C-shaped, distinct ids across pool refills', () => {
    const ids = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const t = ids.generateTraceId();
      const s = ids.generateSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      expect(t).not.toBe('0'.repeat(32));
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(10_000);
    expect(spans.size).toBe(10_000);
  });

  it('hands out a preset trace id exactly once', () => {
    const ids = new PooledIdGenerator();
    ids.presetTraceId('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.generateTraceId()).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.generateTraceId()).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
