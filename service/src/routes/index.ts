// Every application route, registered in one place. Add yours here: one file
// per route (or per small group) under routes/, each an encapsulated plugin so
// its hooks and decorators stay its own.
import type { FastifyPluginAsync } from 'fastify';
import echoRoute from './api/echo.js';
import privateRoute from './api/private.js';
import sleepRoute from './api/sleep.js';
import root from './root.js';

export interface RoutesOptions {
  authTokens: readonly string[];
}

const routes: FastifyPluginAsync<RoutesOptions> = async (app, opts) => {
  await app.register(root);
  await app.register(sleepRoute);
  await app.register(echoRoute);
  await app.register(privateRoute, { tokens: opts.authTokens });
};

export default routes;
