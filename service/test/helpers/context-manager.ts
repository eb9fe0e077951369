// The AsyncLocalStorage context manager the process installs (telemetry/register.ts),
// installed as the API's global for the calling test file and removed after it.
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll } from 'vitest';

/** Call at a file's (or describe block's) top level; pass the result to createTelemetry's `contextManager`. */
export function useGlobalContextManager(): AsyncLocalStorageContextManager {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });
  return manager;
}
