// "The usual setup" from OpenTelemetry's Node.js getting-started guide:
// NodeSDK + getNodeAutoInstrumentations(), OTLP export, default sampler
// (parent-based always-on), then the same Fastify hello route. Loaded with
// `node --import ./tutorial-register.mjs tutorial.mjs`.
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
const admin = Fastify({ logger: false });
admin.get('/readyz', async () => ({ status: 'ready' }));
await admin.listen({ port: Number(process.env.ADMIN_PORT), host: '127.0.0.1' });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
// Exit cleanly on a signal, so --cpu-prof and the like can write their output.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close().then(() => process.exit(0)));
