// GET /debug/pprof/profile?seconds=N[&format=pprof|cpuprofile]   CPU profile
// GET /debug/pprof/heap?seconds=N                                sampling heap profile
//
// The paths and the pprof format are Go's net/http/pprof ones, so the usual
// tools read the result: `go tool pprof`, Grafana Pyroscope (and Alloy's
// pyroscope.scrape, which sends the bearer token), speedscope. Every request
// needs `Authorization: Bearer $PROFILING_TOKEN` (compared in constant time by
// @fastify/bearer-auth); one profile of each kind runs at a time (409 with
// Retry-After otherwise); the window is 1..60 s (400 otherwise). Registered
// only when PROFILING_ENABLED=true (see index.ts), and even then the profiler
// itself (a native module, ~10 MB of RSS) is loaded by the first profile.
import { hostname } from 'node:os';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requestSignal } from '../../http/request-signal.js';
import { requireBearerToken } from '../../plugins/bearer-auth.js';
import type { ErrorBody } from '../../plugins/error-handler.js';
import type { SourceMaps } from './profilers.js';
import { ProfileSlot } from './slot.js';

type Profilers = typeof import('./profilers.js');

export const MIN_SECONDS = 1;
export const MAX_SECONDS = 60;
export const DEFAULT_SECONDS = 10;

export interface DebugRoutesOptions {
  token: string;
  sourceMapDir: string;
}

type Kind = 'cpu' | 'heap';
type Format = 'pprof' | 'cpuprofile';

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
  // Enabled but never used costs nothing: the profiler loads with the first profile.
  let loading: Promise<{ profilers: Profilers; sourceMaps: SourceMaps }> | undefined;
  const load = () => {
    loading ??= import('./profilers.js').then(
      (profilers) => ({
        profilers,
        sourceMaps: profilers.sourceMapsFrom(opts.sourceMapDir, (err) =>
          app.log.warn({ err }, 'profiling: source maps not loaded; frames will name the compiled files'),
        ),
      }),
      (err: unknown) => {
        loading = undefined; // a later request tries again
        throw err;
      },
    );
    return loading;
  };
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
    // Bound to the response, not Fastify's request.signal (see http/request-signal.ts).
    const gone = requestSignal(reply);
    request.log.info({ profile: kind, format, seconds: secs }, 'profiling started');
    try {
      const body = await take(secs * 1000, AbortSignal.any([gone, closing.signal]));
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
      const reason = closing.signal.aborted ? 'server closing' : gone.aborted ? 'client went away' : undefined;
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

  // Two query parameters, checked by hand: a JSON-schema validator on the
  // admin server would be an Ajv instance of its own, ~5 MB of RSS for an
  // endpoint that is mostly never called.
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/debug/pprof/profile',
    async (request, reply) => {
      const secs = secondsFrom(request.query.seconds);
      const format = formatFrom(request.query.format);
      return run(request, reply, 'cpu', format, secs, async (ms, signal) => {
        const { profilers, sourceMaps } = await load();
        return format === 'cpuprofile'
          ? profilers.cpuDevtools(ms, signal)
          : profilers.cpuPprof(ms, signal, await sourceMaps.get());
      });
    },
  );

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/debug/pprof/heap', async (request, reply) =>
    run(request, reply, 'heap', 'pprof', secondsFrom(request.query.seconds), async (ms, signal) => {
      const { profilers, sourceMaps } = await load();
      return profilers.heapPprof(ms, signal, await sourceMaps.get());
    }),
  );
};

/** `seconds`: a whole number from MIN_SECONDS to MAX_SECONDS, DEFAULT_SECONDS when absent. */
export function secondsFrom(raw: string | string[] | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_SECONDS;
  const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= MIN_SECONDS && n <= MAX_SECONDS)) {
    throw new HttpError(
      400,
      `querystring/seconds must be a whole number from ${MIN_SECONDS} to ${MAX_SECONDS}, got ${JSON.stringify(raw)}`,
      'BAD_QUERY',
    );
  }
  return n;
}

function formatFrom(raw: string | string[] | undefined): Format {
  if (raw === undefined || raw === '' || raw === 'pprof') return 'pprof';
  if (raw === 'cpuprofile') return 'cpuprofile';
  throw new HttpError(400, `querystring/format must be pprof or cpuprofile, got ${JSON.stringify(raw)}`, 'BAD_QUERY');
}

export default routes;
