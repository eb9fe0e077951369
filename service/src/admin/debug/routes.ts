// GET /debug/pprof/profile?seconds=N[&format=pprof|cpuprofile]   CPU profile
// GET /debug/pprof/heap?seconds=N                                sampling heap profile
//
// The paths and the pprof format are Go's net/http/pprof ones, so the usual
// tools read the result: `go tool pprof`, Grafana Pyroscope (and Alloy's
// pyroscope.scrape, which sends the bearer token), speedscope. Every request
// needs `Authorization: Bearer $PROFILING_TOKEN` (compared in constant time by
// @fastify/bearer-auth); one profile of each kind runs at a time (409 with
// Retry-After otherwise); the window is 1..60 s (400 otherwise). Loaded only
// when PROFILING_ENABLED=true (see index.ts).
import { hostname } from 'node:os';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requireBearerToken } from '../../plugins/bearer-auth.js';
import type { ErrorBody } from '../../plugins/error-handler.js';
import { cpuDevtools, cpuPprof, heapPprof, sourceMapsFrom } from './profilers.js';
import { ProfileSlot } from './slot.js';

export const MIN_SECONDS = 1;
export const MAX_SECONDS = 60;
export const DEFAULT_SECONDS = 10;

export interface DebugRoutesOptions {
  token: string;
  sourceMapDir: string;
}

type Kind = 'cpu' | 'heap';
type Format = 'pprof' | 'cpuprofile';

const seconds = { type: 'integer', minimum: MIN_SECONDS, maximum: MAX_SECONDS, default: DEFAULT_SECONDS } as const;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const routes: FastifyPluginAsync<DebugRoutesOptions> = async (app, opts) => {
  // Scoped to this plugin: the rest of the admin server (probes, /metrics) stays open.
  await requireBearerToken(app, [opts.token]);

  const slots: Record<Kind, ProfileSlot> = { cpu: new ProfileSlot(), heap: new ProfileSlot() };
  const sourceMaps = sourceMapsFrom(opts.sourceMapDir, (err) =>
    app.log.warn({ err }, 'profiling: source maps not loaded; frames will name the compiled files'),
  );
  // The admin server closes last in a shutdown: a running profile ends as
  // closing begins (preClose, before connections are cut) instead of holding
  // the process for up to a minute.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  /** Runs `take` in the kind's slot for `secs` and sends its result as a download. */
  async function run(
    request: FastifyRequest,
    reply: FastifyReply,
    kind: Kind,
    format: Format,
    secs: number,
    take: (ms: number, signal: AbortSignal) => Promise<Buffer | string>,
  ) {
    const slot = slots[kind];
    const release = slot.tryAcquire(secs * 1000);
    if (!release) {
      const left = Math.max(1, Math.ceil(((slot.busy?.endsAt ?? Date.now()) - Date.now()) / 1000));
      reply.header('retry-after', String(left));
      throw new HttpError(
        409,
        `a ${kind} profile is already being taken; it ends in about ${left} s (one at a time)`,
        'PROFILE_IN_PROGRESS',
      );
    }
    const started = performance.now();
    request.log.info({ profile: kind, format, seconds: secs }, 'profiling started');
    try {
      const body = await take(secs * 1000, AbortSignal.any([request.signal, closing.signal]));
      const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      request.log.info(
        { profile: kind, format, seconds: secs, bytes, duration_ms: Math.round(performance.now() - started) },
        'profiling finished',
      );
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = `${hostname()}-${kind}-${stamp}${format === 'pprof' ? '.pb.gz' : '.cpuprofile'}`;
      return reply
        .header('content-type', format === 'pprof' ? 'application/octet-stream' : 'application/json')
        .header('content-disposition', `attachment; filename="${file}"`)
        .header('cache-control', 'no-store')
        .send(body);
    } catch (err) {
      const reason = closing.signal.aborted
        ? 'server closing'
        : request.signal.aborted
          ? 'client went away'
          : undefined;
      if (!reason) throw err;
      // The sampler is already stopped (the abort ended the window). Not an
      // error of the service: answered here, not logged by the error handler.
      request.log.info({ profile: kind, format, reason }, 'profiling abandoned');
      const [statusCode, error, message, code] = closing.signal.aborted
        ? [503, 'Service Unavailable', 'the server is shutting down; profile abandoned', 'SHUTTING_DOWN']
        : [499, 'Client Closed Request', 'client closed the request', 'CLIENT_CLOSED'];
      return reply
        .code(statusCode)
        .send({ statusCode, error, message, code, request_id: request.id } satisfies ErrorBody);
    } finally {
      release();
    }
  }

  app.get<{ Querystring: { seconds: number; format: Format } }>(
    '/debug/pprof/profile',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { seconds, format: { type: 'string', enum: ['pprof', 'cpuprofile'], default: 'pprof' } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { seconds: secs, format } = request.query;
      return run(request, reply, 'cpu', format, secs, async (ms, signal) =>
        format === 'cpuprofile' ? cpuDevtools(ms, signal) : cpuPprof(ms, signal, await sourceMaps.get()),
      );
    },
  );

  app.get<{ Querystring: { seconds: number } }>(
    '/debug/pprof/heap',
    {
      schema: {
        querystring: { type: 'object', properties: { seconds }, additionalProperties: false },
      },
    },
    async (request, reply) =>
      run(request, reply, 'heap', 'pprof', request.query.seconds, async (ms, signal) =>
        heapPprof(ms, signal, await sourceMaps.get()),
      ),
  );
};

export default routes;
