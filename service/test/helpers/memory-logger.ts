// A real pino logger (same options as production) writing to memory.
import { createLogger, type Logger } from '../../src/logging/logger.js';

export function memoryLogger(mixin?: Parameters<typeof createLogger>[0]['mixin']): {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const destination = {
    write(chunk: string) {
      for (const l of chunk.split('\n')) if (l) lines.push(JSON.parse(l));
    },
  };
  return { logger: createLogger({ level: 'info', format: 'json', destination, mixin }), lines };
}
