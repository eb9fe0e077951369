// A real upstream HTTP server whose behaviour a test switches at will.
import Fastify, { type FastifyInstance } from 'fastify';

export type UpstreamMode = 'ok' | 'fail' | 'slow';

export interface Upstream {
  url: string;
  mode: UpstreamMode;
  /** Delay for `slow` (ms). */
  delayMs: number;
  /** Requests received, and the traceparent headers they carried. */
  hits: number;
  traceparents: Array<string | undefined>;
  /** Stop listening (the port then refuses connections: a dead upstream). */
  kill(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  const state: Upstream = {
    url: '',
    mode: 'ok',
    delayMs: 5_000,
    hits: 0,
    traceparents: [],
    kill: async () => {
      await app.close();
    },
  };
  app.get('/data', async (request, reply) => {
    state.hits++;
    state.traceparents.push(request.headers.traceparent as string | undefined);
    if (state.mode === 'fail') return reply.code(500).send({ error: 'upstream broken' });
    if (state.mode === 'slow') await new Promise((r) => setTimeout(r, state.delayMs));
    return { items: [1, 2, 3], served: state.hits };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  state.url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/data`;
  return state;
}
