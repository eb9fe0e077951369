// The hello route of the overhead benchmark, with the same response schema as
// the service's GET /, plus a /readyz on a second port so every variant is
// timed exec → ready the same way. Shared by bare.mjs and tutorial.mjs.
import Fastify from 'fastify';

export async function startHelloApp() {
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
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => Promise.all([app.close(), admin.close()]).then(() => process.exit(0)));
  }
}
