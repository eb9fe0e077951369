// Baseline for the overhead benchmark: bare Fastify 5, the same hello route
// (same response schema) as the service, no logger, no telemetry.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get(
  '/',
  {
    schema: {
      response: { 200: { type: 'object', properties: { hello: { type: 'string' } }, required: ['hello'] } },
    },
  },
  async () => ({ hello: 'world' }),
);
// A readiness signal comparable to the service's /readyz, on a second port.
const admin = Fastify({ logger: false });
admin.get('/readyz', async () => ({ status: 'ready' }));
await admin.listen({ port: Number(process.env.ADMIN_PORT), host: '127.0.0.1' });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
// Exit cleanly on a signal, so --cpu-prof and the like can write their output.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close().then(() => process.exit(0)));
