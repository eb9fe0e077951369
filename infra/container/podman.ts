// A thin, typed wrapper over the podman CLI for the container image test.
// Every call uses runc and the low rlimits this host accepts (see lib.sh).
import { execFile } from 'node:child_process';

export const IMAGE = process.env.PERISCOPE_IMAGE ?? 'localhost/periscope:test';

const RUNTIME = ['--runtime', 'runc'];
export const CONTAINER_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `podman ARGS`; resolves with the exit code and output, whatever the code. */
export function podmanResult(args: string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile('podman', [...RUNTIME, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`podman ${args.join(' ')}: ${err.message}`));
        return;
      }
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

/**
 * `podman run --rm` of the image, once, with the test's rlimits and no network:
 * `options` go before the image, `command` after it (none: the image's CMD).
 */
export function runOffline(options: string[], command: string[] = []): Promise<Result> {
  return podmanResult(['run', '--rm', ...CONTAINER_LIMITS, '--network', 'none', ...options, IMAGE, ...command]);
}

/** Runs `podman ARGS` and returns stdout; a non-zero exit is an error that quotes stderr. */
export async function podman(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podmanResult(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `podman image inspect` / `podman container inspect`, parsed. */
export async function inspect<T>(kind: 'image' | 'container', name: string): Promise<T> {
  const [first] = JSON.parse(await podman([kind, 'inspect', name])) as T[];
  if (first === undefined) throw new Error(`podman ${kind} inspect ${name}: nothing returned`);
  return first;
}

/** The loopback address and port podman published for a container port. */
export async function publishedUrl(container: string, port: number): Promise<string> {
  const line = (await podman(['port', container, `${port}/tcp`])).trim().split('\n')[0] ?? '';
  const m = /^(.+):(\d+)$/.exec(line);
  if (!m) throw new Error(`no published address for ${container} port ${port}: "${line}"`);
  return `http://${m[1]}:${m[2]}`;
}

/** Polls `check` until it returns true (errors count as false) or the time is up. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}
