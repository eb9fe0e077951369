// Bearer-token authentication for the routes of the scope that registers it
// (see routes/api/private.ts). Runs in onRequest, before the body is read or
// validated: an unauthenticated caller learns nothing about the schema and
// costs no parsing. Failures go through the central error handler, so the 401
// has the same shape (and request id) as every other error.
import bearerAuth from '@fastify/bearer-auth';
import type { FastifyInstance } from 'fastify';

export async function requireBearerToken(app: FastifyInstance, tokens: readonly string[]): Promise<void> {
  // Keys are compared in constant time by @fastify/bearer-auth.
  await app.register(bearerAuth, { keys: new Set(tokens), addHook: false, verifyErrorLogLevel: null as never });
  app.addHook('onRequest', (request, reply, done) => {
    app.verifyBearerAuth?.(request, reply, (err?: Error) => {
      if (err) reply.header('www-authenticate', 'Bearer realm="periscope"');
      done(err);
    });
  });
}
