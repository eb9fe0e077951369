// Entering a request's trace context once, as the request starts, instead of
// wrapping its handler in context.with().
//
// Why: on Node 24, AsyncLocalStorage keeps its stores in AsyncContextFrame
// maps, and every enter builds a new map, copied from the current one.
// context.with() is AsyncLocalStorage.run(), which enters twice: the request's
// context on the way in, the prior one again on the way out. Around a bare
// Fastify handler, run() cost 4.6 µs a request and one enterWith() 3.2
// (loaded together, 10 rounds); the service went from 64.8 to 60.4 µs of CPU a
// request at the default profile, lower in 11 of 12 rounds (README, Performance).
//
// Entered, the context lasts for the rest of the callback Node is running (the
// socket read that parsed the request) and for everything scheduled from it:
// Fastify's hooks and the handler when they run in that pass, their promises,
// the response's events. When the callback returns, Node puts the caller's
// frame back, so the context does not reach the connection's next request.
// That last property is AsyncContextFrame's; under async_hooks (Node 20 and 22
// by default, or `--no-async-context-frame`) an entered store sticks to the connection's
// async resource and would leak into whatever runs on it next. There
// `requestContextEntry` returns undefined and handlers keep context.with().
//
// A handler resumed by a callback that does not descend from the request's
// start (a hook finishing in a pooled client's callback, say) is not in the
// entered context; HttpServerTelemetry checks `isActive` and runs it in
// context.with() then, as before.
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { Context } from '@opentelemetry/api';
import type { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

export interface RequestContextEntry {
  /** Make `ctx` the active context for the rest of the current callback and what it schedules. */
  enter(ctx: Context): void;
  /** Whether `ctx` is the active context (then a handler needs no context.with()). */
  isActive(ctx: Context): boolean;
}

/**
 * Whether a store entered inside a callback ends with that callback, as it does
 * under AsyncContextFrame. Asked of the running Node once, not assumed from
 * its version: the flag can turn it off.
 */
export function enteredContextEndsWithCallback(): boolean {
  const storage = new AsyncLocalStorage<number>();
  const callback = new AsyncResource('periscope.context-probe');
  callback.runInAsyncScope(() => storage.enterWith(1));
  const leaked = callback.runInAsyncScope(() => storage.getStore()) === 1;
  callback.emitDestroy();
  return !leaked;
}

let endsWithCallback: boolean | undefined;

/** Entry through `manager` (the context manager the API uses), or undefined where entering would leak. */
export function requestContextEntry(manager: AsyncLocalStorageContextManager): RequestContextEntry | undefined {
  endsWithCallback ??= enteredContextEndsWithCallback();
  if (!endsWithCallback) return undefined;
  return {
    // The returned token is not disposed: its dispose() would enter the prior
    // context again (a second frame, the cost this avoids). The callback's end
    // restores it instead.
    enter: (ctx) => {
      manager.attach(ctx);
    },
    isActive: (ctx) => manager.active() === ctx,
  };
}
