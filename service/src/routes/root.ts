// GET / — the smallest useful route; also the benchmark's "hello" route.
import type { FastifyPluginAsync } from 'fastify';

const root: FastifyPluginAsync = async (app) => {
  app.get(
    '/',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { hello: { type: 'string' } },
            required: ['hello'],
          },
        },
      },
    },
    async () => ({ hello: 'world' }),
  );
};

export default root;
