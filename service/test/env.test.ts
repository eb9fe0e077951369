import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../src/config/env.js';

describe('environment', () => {
  it('has defaults that work locally', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      ADMIN_PORT: 9464,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      ACCESS_LOG: 'errors',
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      PROFILING_ENABLED: false,
    });
  });

  it('coerces and validates types', () => {
    expect(loadEnv({ PORT: '8080', PROFILING_ENABLED: 'false' }).PORT).toBe(8080);
    expect(loadEnv({ PORT: '' }).PORT).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT="abc" is not allowed; expected an integer from 1 to 65535'],
    [{ PORT: '70000' }, 'PORT="70000" is not allowed; expected an integer from 1 to 65535'],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL="loud" is not allowed; expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [{ ACCESS_LOG: 'some' }, 'ACCESS_LOG="some" is not allowed; expected one of off, errors, all'],
    [{ SHUTDOWN_TIMEOUT_MS: '-5' }, 'SHUTDOWN_TIMEOUT_MS="-5" is not allowed; expected an integer from 0 to 600000'],
    [{ PROFILING_ENABLED: 'yes' }, 'PROFILING_ENABLED="yes" is not allowed; expected true or false'],
    [{ DOWNSTREAM_URL: 'ftp://x' }, 'DOWNSTREAM_URL="ftp://x" is not allowed'],
    [{ PORT: '9464' }, 'ADMIN_PORT="9464" is not allowed; expected a port different from PORT (9464)'],
    [{ PROFILING_ENABLED: 'true' }, 'PROFILING_TOKEN="" is not allowed when PROFILING_ENABLED=true'],
  ])('rejects %o with one clear line', (input, message) => {
    let error: unknown;
    try {
      loadEnv(input);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('schemas are valid JSON Schema (the service skips this check at start-up)', () => {
  it('env and runtime config schemas pass the meta-schema', async () => {
    const { Ajv } = await import('ajv');
    const { EnvSchema } = await import('../src/config/env.js');
    const { RuntimeConfigSchema, DEFAULT_RUNTIME_CONFIG, parseRuntimeConfig } = await import(
      '../src/config/runtime-config.js'
    );
    const ajv = new Ajv({ strict: true });
    expect(ajv.validateSchema(EnvSchema), JSON.stringify(ajv.errors)).toBe(true);
    expect(ajv.validateSchema(RuntimeConfigSchema), JSON.stringify(ajv.errors)).toBe(true);
    expect(DEFAULT_RUNTIME_CONFIG).toEqual(parseRuntimeConfig('{}', 'defaults'));
  });
});
