// CONFIG_FILE hot reload in the real process, with the file laid out the way
// the kubelet mounts a ConfigMap: config.yaml → ..data/config.yaml, ..data →
// ..<timestamp>/, and updates made by swapping the ..data symlink atomically.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningService, startService, waitFor } from './helpers/service-process.js';

let svc: RunningService | undefined;
let dir: string | undefined;
afterEach(async () => {
  await svc?.stop('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  svc = dir = undefined;
});

let generation = 0;
/** Publish new content the way the kubelet does: new folder, new symlink, rename over ..data. */
function publish(root: string, content: string): void {
  const version = `..2026_11_27_${String(++generation).padStart(4, '0')}`;
  mkdirSync(join(root, version));
  writeFileSync(join(root, version, 'config.yaml'), content);
  symlinkSync(version, join(root, '..data_tmp'));
  renameSync(join(root, '..data_tmp'), join(root, '..data'));
}

async function metric(s: RunningService, pattern: RegExp): Promise<string | undefined> {
  const body = await (await fetch(`${s.adminUrl}/metrics`)).text();
  return body.match(pattern)?.[1];
}

const echo = (s: RunningService) =>
  fetch(`${s.url}/api/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"message":"x"}',
  });

describe('CONFIG_FILE hot reload (ConfigMap symlink swap)', () => {
  it('applies a valid change without a restart, rejects an invalid one and keeps the old, then recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'periscope-config-'));
    publish(dir, 'rateLimit:\n  max: 100\n');
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    svc = await startService({ env: { CONFIG_FILE: join(dir, 'config.yaml') } });
    const s = svc;
    const hash0 = await metric(s, /^config_info\{hash="([0-9a-f]{16})"\} 1$/m);
    expect(hash0).toBeDefined();
    expect((await (await fetch(`${s.adminUrl}/healthz`)).json()).config_hash).toBe(hash0);

    // 1. a valid change: tighter rate limit, debug logging
    publish(dir, 'logLevel: debug\nrateLimit:\n  max: 2\n');
    await waitFor(async () => (await metric(s, /^config_reload_total\{result="success"\} (\d+)$/m)) === '1', 10_000);
    const hash1 = await metric(s, /^config_info\{hash="([0-9a-f]{16})"\} 1$/m);
    expect(hash1).not.toBe(hash0);
    expect(s.logs.find((l) => l.msg === 'config reloaded')).toMatchObject({ hash: hash1, previous_hash: hash0 });
    expect([(await echo(s)).status, (await echo(s)).status, (await echo(s)).status]).toEqual([200, 200, 429]);

    // 2. an invalid file: rejected with one error line, the config in force stays
    publish(dir, 'rateLimit:\n  max: lots\n');
    await waitFor(async () => (await metric(s, /^config_reload_total\{result="failure"\} (\d+)$/m)) === '1', 10_000);
    const rejected = s.logs.filter((l) => l.msg === 'config reload rejected; keeping the config in force');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toContain('/rateLimit/max');
    expect(rejected[0]?.level).toBe('error');
    expect(await metric(s, /^config_info\{hash="([0-9a-f]{16})"\} 1$/m)).toBe(hash1);
    expect((await echo(s)).status).toBe(429);

    // 3. and back to a good one
    publish(dir, 'rateLimit:\n  max: 1000\n');
    await waitFor(async () => (await metric(s, /^config_reload_total\{result="success"\} (\d+)$/m)) === '2', 10_000);
    expect((await echo(s)).status).toBe(200);
    expect((await (await fetch(`${s.adminUrl}/healthz`)).json()).config_hash).not.toBe(hash1);
  });
});
