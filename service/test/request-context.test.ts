// The request's trace context, entered once as the request starts
// (telemetry/tracing/request-context.ts): who sees it, and that it ends with
// the request's callback instead of leaking into the connection's next request.
// Over real sockets: inject() has no connections to leak into.

import { AsyncResource } from 'node:async_hooks';
import { Agent, request as httpRequest } from 'node:http';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry } from '../src/telemetry/telemetry.js';
import { enteredContextEndsWithCallback } from '../src/telemetry/tracing/request-context.js';
import { type Built, build } from './helpers/build.js';
import { useGlobalContextManager } from './helpers/context-manager.js';

const contextManager = useGlobalContextManager();

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

const activeSpanId = () => trace.getActiveSpan()?.spanContext().spanId;
type Seen = Array<{ step: string; url: string | undefined; spanId: string | undefined }>;

/** The service with always-on tracing, test routes recording the active span where each step runs. */
async function service(routes?: (app: Built['app'], seen: Seen) => void) {
  const exporter = new InMemorySpanExporter();
  const telemetry = await createTelemetry(
    { OTEL_TRACES_SAMPLER: 'always_on' },
    { global: false, contextManager, spanProcessors: [new SimpleSpanProcessor(exporter)] },
  );
  built = await build({ telemetry }, false);
  const seen: Seen = [];
  const record = (step: string, url: string | undefined) => seen.push({ step, url, spanId: activeSpanId() });
  // Before Fastify's own listener: what a request starts in, before the telemetry enters its context.
  built.app.server.prependListener('request', (req) => record('arrival', req.url));
  built.app.addHook('onRequest', async (request) => record('onRequest', request.url));
  built.app.get('/ctx', async (request) => {
    record('handler', request.url);
    return { ok: true };
  });
  routes?.(built.app, seen);
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // The server spans of the test routes, in the order their requests finished.
  const spanIds = (name: string) =>
    exporter
      .getFinishedSpans()
      .filter((s) => s.name === name)
      .map((s) => s.spanContext().spanId);
  return { port, seen, spanIds };
}

function get(port: number, path: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest({ port, host: '127.0.0.1', path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

const nodeMajor = Number(process.versions.node.split('.')[0]);
const asyncContextFrame =
  nodeMajor >= 24 &&
  ![...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').includes('no-async-context-frame');

describe('request context', () => {
  it('is entered at the start only where an entered store ends with its callback (AsyncContextFrame, Node 24)', () => {
    expect(enteredContextEndsWithCallback()).toBe(asyncContextFrame);
  });

  it('reaches the handler, reaches the hooks where entered, and never the next request on the connection', async () => {
    const { port, seen, spanIds: serverSpanIds } = await service();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const path of ['/ctx?n=1', '/ctx?n=2', '/ctx?n=3']) expect(await get(port, path, agent)).toBe(200);
    } finally {
      agent.destroy();
    }
    const stepsOf = (step: string) => seen.filter((s) => s.step === step && s.url?.startsWith('/ctx'));
    // One keep-alive connection: each request arrives with no span active, not the previous request's.
    expect(stepsOf('arrival').map((s) => s.spanId)).toEqual([undefined, undefined, undefined]);
    const spanIds = serverSpanIds('GET /ctx');
    expect(new Set(spanIds).size).toBe(3);
    expect(stepsOf('handler').map((s) => s.spanId)).toEqual(spanIds);
    // Hooks run in the span's context when it was entered at the start; with context.with() only the handler does.
    expect(stepsOf('onRequest').map((s) => s.spanId)).toEqual(
      asyncContextFrame ? spanIds : [undefined, undefined, undefined],
    );
  });

  it('still runs a handler in its span when a hook resumes it from a callback of its own (a pooled client, say)', async () => {
    // A resource created outside any request, like a connection pool's socket:
    // its callbacks run in the context it was created in, not the request's.
    const pool = new AsyncResource('test.pool');
    const { port, seen, spanIds } = await service((app, record) => {
      app.get(
        '/ctx/pooled',
        {
          preHandler: (_request, _reply, done) => {
            setImmediate(() => pool.runInAsyncScope(() => done()));
          },
        },
        async (request) => {
          record.push({ step: 'handler', url: request.url, spanId: activeSpanId() });
          return { ok: true };
        },
      );
    });
    const agent = new Agent({ keepAlive: false });
    expect(await get(port, '/ctx/pooled', agent)).toBe(200);
    const handler = seen.find((s) => s.step === 'handler' && s.url === '/ctx/pooled');
    expect(handler?.spanId).toBeDefined();
    expect([handler?.spanId]).toEqual(spanIds('GET /ctx/pooled'));
  });
});
