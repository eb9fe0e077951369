// One error handler for every app route. Client errors keep their message
// (it tells the caller what to fix); server errors hide internals behind a
// fixed body and are logged once, with the stack, at `error`.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Counter } from 'prom-client';
import { recordRequestError } from '../telemetry/http-server.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  request_id: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function statusOf(err: FastifyError, reply: FastifyReply): number {
  const s = err.statusCode ?? (reply.statusCode >= 400 ? reply.statusCode : 500);
  return s >= 400 && s <= 599 ? s : 500;
}

export interface ErrorHandlerOptions {
  /** Counts requests whose route deadline (handlerTimeout) expired. */
  deadlineExceeded?: Counter<'http_route'>;
}

/**
 * A route's deadline (Fastify's handlerTimeout) expired: the caller gets
 * 504 Gateway Timeout — the service gave up waiting on its own work, it is not
 * unavailable — with the deadline in the message. Sending it closes the
 * response, which aborts the handler's requestSignal (http/request-signal.ts),
 * so its downstream calls and worker tasks stop too.
 */
function deadlineError(err: FastifyError, request: FastifyRequest, opts: ErrorHandlerOptions): FastifyError {
  const route = request.routeOptions.url ?? 'unmatched';
  opts.deadlineExceeded?.inc({ http_route: route });
  return Object.assign(new Error(`deadline of ${request.routeOptions.handlerTimeout} ms exceeded on ${route}`), {
    statusCode: 504,
    code: 'DEADLINE_EXCEEDED',
    expose: true,
    cause: err,
  }) as FastifyError;
}

export function errorHandler(
  this: FastifyInstance,
  original: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  opts: ErrorHandlerOptions = {},
) {
  const err = original.code === 'FST_ERR_HANDLER_TIMEOUT' ? deadlineError(original, request, opts) : original;
  const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
  const statusCode = statusOf(err, reply);
  const error = STATUS_TEXT[statusCode] ?? (statusCode < 500 ? 'Client Error' : 'Server Error');
  recordRequestError(request.raw, err, true);
  if ((err as { quiet?: boolean }).quiet) {
    // Expected refusals under pressure (shed, pool full, circuit open): counted
    // in metrics and logged by their mechanism when it starts and stops. A line
    // with a stack per refused request would add work exactly when there is
    // least room for it.
    request.log.debug({ code: err.code, status: statusCode }, 'request refused');
  } else if (statusCode >= 500) {
    request.log.error({ err }, 'request failed');
  } else {
    // Expected client mistakes: one line without a stack, not an alarm.
    request.log.info({ client_error: { code: err.code, message: err.message } }, 'request rejected');
  }
  const body: ErrorBody =
    statusCode >= 500 && !err.expose
      ? { statusCode, error, message: error, request_id: request.id }
      : { statusCode, error, message: err.message, request_id: request.id, ...(err.code ? { code: err.code } : {}) };
  // Headers such as Retry-After set by the thrower are kept.
  return reply.code(statusCode).send(body);
}

declare module 'fastify' {
  interface FastifyError {
    /** Set on a 5xx error whose message is safe to show the client. */
    expose?: boolean;
    /** An expected refusal (shed, pool full, circuit open): logged at debug without a stack. */
    quiet?: boolean;
  }
}

export default fp<ErrorHandlerOptions>(
  async (app, opts) => {
    app.setErrorHandler(function handle(err, request, reply) {
      return errorHandler.call(this, err as FastifyError, request, reply, opts);
    });
    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `Route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)} not found`,
        request_id: request.id,
      } satisfies ErrorBody);
    });
  },
  { name: 'error-handler' },
);
