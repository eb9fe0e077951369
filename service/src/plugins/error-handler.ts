// One error handler for every app route. Client errors keep their message
// (it tells the caller what to fix); server errors hide internals behind a
// fixed body and are logged once, with the stack, at `error`.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
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

export function errorHandler(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusOf(err, reply);
  const error = STATUS_TEXT[statusCode] ?? (statusCode < 500 ? 'Client Error' : 'Server Error');
  recordRequestError(request.raw, err, true);
  if (statusCode >= 500) {
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
  }
}

export default fp(
  async (app) => {
    app.setErrorHandler(errorHandler);
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
