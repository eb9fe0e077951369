// POST /api/echo — a JSON body validated by schema. A body that does not fit
// is a 400 whose message names the field (Fastify + Ajv do the naming).
import type { FastifyPluginAsync } from 'fastify';

interface EchoBody {
  message: string;
  repeat?: number;
  tags?: string[];
}

const echoRoute: FastifyPluginAsync = async (app) => {
  app.post<{ Body: EchoBody }>(
    '/api/echo',
    {
      config: { rateLimit: {} },
      schema: {
        body: {
          type: 'object',
          properties: {
            message: { type: 'string', minLength: 1, maxLength: 1000 },
            repeat: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
            tags: { type: 'array', items: { type: 'string', maxLength: 50 }, maxItems: 10 },
          },
          required: ['message'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              echo: { type: 'string' },
              tags: { type: 'array', items: { type: 'string' } },
              request_id: { type: 'string' },
            },
          },
        },
      },
    },
    async (request) => {
      const { message, repeat = 1, tags = [] } = request.body;
      return { echo: Array.from({ length: repeat }, () => message).join(' '), tags, request_id: request.id };
    },
  );
};

export default echoRoute;
