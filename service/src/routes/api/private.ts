// GET /api/private — the worked example of the hook chain, in order:
//   request id (genReqId, before any hook) → auth (onRequest, this scope only)
//   → validation (querystring schema) → handler → central error handler.
// The auth hook is registered inside this plugin, so encapsulation keeps it
// off every other route.
import type { FastifyPluginAsync } from 'fastify';
import { requireBearerToken } from '../../plugins/bearer-auth.js';

export interface PrivateRouteOptions {
  tokens: readonly string[];
}

const privateRoute: FastifyPluginAsync<PrivateRouteOptions> = async (app, { tokens }) => {
  await requireBearerToken(app, tokens);

  app.get<{ Querystring: { detail?: 'short' | 'full' } }>(
    '/api/private',
    {
      config: { rateLimit: {} },
      schema: {
        querystring: {
          type: 'object',
          properties: { detail: { type: 'string', enum: ['short', 'full'], default: 'short' } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const body: Record<string, unknown> = { secret: 'the owls are not what they seem' };
      if (request.query.detail === 'full') body.request_id = request.id;
      return body;
    },
  );
};

export default privateRoute;
