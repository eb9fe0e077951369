// The shared rate-limit store: two service processes configured with
// `rateLimit.store: redis` share one counter per client through a real Redis
// (Debian's redis-server); with Redis gone, requests are let through.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { type RunningService, startService, waitFor } from '../../service/test/helpers/service-process.js';

let redis: ChildProcess;
let redisPort: number;
let dir: string;
const services: RunningService[] = [];

beforeAll(async () => {
  redisPort = await freePort();
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitFor(async () => {
    const { connect } = await import('node:net');
    return new Promise<boolean>((resolve) => {
      const s = connect(redisPort, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
  });
  dir = mkdtempSync(join(tmpdir(), 'periscope-rl-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `rateLimit:\n  max: 5\n  timeWindowMs: 60000\n  store: redis\n  redisUrl: redis://127.0.0.1:${redisPort}\n`,
  );
  for (let i = 0; i < 2; i++) services.push(await startService({ env: { CONFIG_FILE: join(dir, 'config.yaml') } }));
});

afterAll(async () => {
  for (const s of services) await s.stop();
  if (redis.exitCode === null) {
    redis.kill();
    await once(redis, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
});

const echo = (s: RunningService) =>
  fetch(`${s.url}/api/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"message":"x"}',
  });

describe('rate limits shared through Redis', () => {
  it('counts one client across both pods', async () => {
    const [a, b] = services as [RunningService, RunningService];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await echo(a)).status);
      statuses.push((await echo(b)).status);
    }
    // 5 allowed in total, not 5 per pod
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const limited = await echo(b);
    expect(limited.headers.get('ratelimit-limit')).toBe('5');
  });

  it('lets requests through, with a warning, when Redis is gone', async () => {
    redis.kill();
    await once(redis, 'exit');
    const b = services[1] as RunningService;
    await waitFor(() => b.logs.some((l) => l.msg === 'rate-limit store (redis) error'));
    expect((await echo(b)).status).toBe(200);
  });
});
