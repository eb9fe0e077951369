// The request context (telemetry/tracing/span-context.ts) behaves as the
// API's trace.setSpan(parent, span) does, for every way it is read or derived.
import { context, createContextKey, propagation, ROOT_CONTEXT, type Span, TraceFlags, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { contextWithSpan } from '../src/telemetry/tracing/span-context.js';
import { useGlobalContextManager } from './helpers/context-manager.js';

const span = (traceId: string, spanId: string): Span =>
  trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.SAMPLED });

const A = span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331');
const B = span('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7');
const KEY = createContextKey('test key');
const OTHER = createContextKey('other key');

describe('contextWithSpan', () => {
  useGlobalContextManager();

  it('is not the API context (the point), and reads like it', () => {
    const parent = ROOT_CONTEXT.setValue(KEY, 'parent value');
    const ctx = contextWithSpan(parent, A);
    const api = trace.setSpan(parent, A);
    expect(ctx.constructor).not.toBe(api.constructor);
    expect(trace.getSpan(ctx)).toBe(A);
    expect(trace.getSpanContext(ctx)).toEqual(A.spanContext());
    expect(ctx.getValue(KEY)).toBe('parent value');
    expect(ctx.getValue(OTHER)).toBeUndefined();
    // The parent's span, if any, is shadowed.
    expect(trace.getSpan(contextWithSpan(trace.setSpan(ROOT_CONTEXT, B), A))).toBe(A);
  });

  it('derives contexts that keep both the span and the parent, and leaves itself unchanged', () => {
    const parent = ROOT_CONTEXT.setValue(KEY, 'parent value');
    const ctx = contextWithSpan(parent, A);
    const derived = ctx.setValue(OTHER, 42);
    expect(trace.getSpan(derived)).toBe(A);
    expect(derived.getValue(KEY)).toBe('parent value');
    expect(derived.getValue(OTHER)).toBe(42);
    expect(ctx.getValue(OTHER)).toBeUndefined();
    const child = trace.setSpan(ctx, B);
    expect(trace.getSpan(child)).toBe(B);
    expect(child.getValue(KEY)).toBe('parent value');
    expect(trace.getSpan(trace.deleteSpan(ctx))).toBeUndefined();
    expect(trace.deleteSpan(ctx).getValue(KEY)).toBe('parent value');
    expect(ctx.deleteValue(KEY).getValue(KEY)).toBeUndefined();
    expect(trace.getSpan(ctx.deleteValue(KEY))).toBe(A);
    expect(trace.getSpan(ctx)).toBe(A);
  });

  it('is the active context inside context.with, and propagates the span', () => {
    const ctx = contextWithSpan(ROOT_CONTEXT, A);
    const carrier: Record<string, string> = {};
    context.with(ctx, () => {
      expect(trace.getActiveSpan()).toBe(A);
      new W3CTraceContextPropagator().inject(context.active(), carrier, {
        set: (c, k, v) => {
          c[k] = v;
        },
      });
    });
    expect(carrier.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    // Baggage on the parent stays readable.
    const bag = propagation.createBaggage({ tenant: { value: 'acme' } });
    const withBag = contextWithSpan(propagation.setBaggage(ROOT_CONTEXT, bag), A);
    expect(propagation.getBaggage(withBag)?.getEntry('tenant')?.value).toBe('acme');
  });
});
