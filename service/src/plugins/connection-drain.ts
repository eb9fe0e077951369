// From the first moment of shutdown every response carries `Connection: close`,
// so keep-alive clients reconnect (to another pod) instead of sending their
// next request to one that is about to go away.
//
// Costs nothing before shutdown: the listener is added to the HTTP server only
// when draining begins, ahead of Fastify's own, and marks each response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import type { Lifecycle } from '../lifecycle/lifecycle.js';

function closeAfterResponse(_req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
}

export default fp<{ lifecycle: Lifecycle }>(
  async (app, { lifecycle }) => {
    const armed = () => {
      if (lifecycle.draining && !app.server.listeners('request').includes(closeAfterResponse)) {
        app.server.prependListener('request', closeAfterResponse);
      }
    };
    lifecycle.onChange(armed);
    app.addHook('onReady', async () => armed());
  },
  { name: 'connection-drain' },
);
