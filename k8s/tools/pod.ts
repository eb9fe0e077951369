// Runs the real service (dist/, as the image does) the way the rendered pod
// would: the container's env, with the kubelet's part done here — downward-API
// fields filled in, Secret references given test values, $(VAR) references
// expanded — and the ConfigMap laid out as the kubelet's atomic writer does
// (a timestamped folder, the ..data symlink, and a symlink per key).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { productionArgs } from '../../scripts/lib/production-command.js';
import type { K8sObject } from './k8s-object.js';
import { REPO } from './toolchain.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}

const FIELDS: Record<string, string> = {
  'metadata.name': 'periscope-5d8f7c9b4-x2kqz',
  'metadata.namespace': 'periscope',
  'spec.nodeName': 'node-a',
  'status.hostIP': '127.0.0.1',
};

/** The container's env as the kubelet resolves it (dependent $(VAR)s expanded in order). */
export function resolveEnv(vars: EnvVar[], secrets: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of vars) {
    let value: string;
    if (v.value !== undefined) {
      value = v.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => env[name] ?? m);
    } else if (v.valueFrom?.fieldRef) {
      const f = FIELDS[v.valueFrom.fieldRef.fieldPath];
      if (f === undefined) throw new Error(`${v.name}: no test value for field ${v.valueFrom.fieldRef.fieldPath}`);
      value = f;
    } else if (v.valueFrom?.secretKeyRef) {
      const ref = `${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`;
      const s = secrets[ref];
      if (s === undefined) throw new Error(`${v.name}: no test value for secret ${ref}`);
      value = s;
    } else {
      throw new Error(`${v.name}: unsupported env source`);
    }
    env[v.name] = value;
  }
  return env;
}

/** A ConfigMap volume as the kubelet writes it; `update` swaps ..data atomically like a ConfigMap edit. */
export class ConfigMapVolume {
  readonly dir = mkdtempSync(join(tmpdir(), 'periscope-configmap-'));
  #generation = 0;
  #current?: string;

  constructor(data: Record<string, string>) {
    this.update(data);
    for (const key of Object.keys(data)) symlinkSync(join('..data', key), join(this.dir, key));
  }

  update(data: Record<string, string>): void {
    const ts = `..2026_01_01_00_00_00.${String(++this.#generation).padStart(9, '0')}`;
    mkdirSync(join(this.dir, ts));
    for (const [k, v] of Object.entries(data)) writeFileSync(join(this.dir, ts, k), v);
    symlinkSync(ts, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.#current) rmSync(join(this.dir, this.#current), { recursive: true });
    this.#current = ts;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Pod {
  proc: ChildProcess;
  env: Record<string, string>;
  stderr: () => string;
  logs: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts the service with the env of `deployment`'s container; `overrides` win (ports, endpoints). */
export interface StartOptions {
  /** Secret values by "name/key". */
  secrets?: Record<string, string>;
  /** The node binary (default: the one running this). */
  node?: string;
  /** Pin to these CPUs with taskset (a pod's one-core request, when measuring). */
  cpus?: string;
}

export function startPod(deployment: K8sObject, overrides: Record<string, string>, opts: StartOptions = {}): Pod {
  const container = deployment.spec.template.spec.containers[0];
  const env = { ...resolveEnv(container.env, opts.secrets), ...overrides };
  const node = opts.node ?? process.execPath;
  // The image's command (Dockerfile CMD).
  const argv = [node, ...productionArgs()];
  if (opts.cpus) argv.unshift('taskset', '-c', opts.cpus);
  const [cmd = node, ...args] = argv;
  const proc = spawn(cmd, args, {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });
  return { proc, env, stderr: () => stderr, logs: () => stdout, exited };
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  pod: Pod,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pod.proc.exitCode !== null)
      throw new Error(`service exited (${pod.proc.exitCode}) before ${what}: ${pod.stderr()}`);
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}\n${pod.stderr()}\n${pod.logs().slice(-2000)}`);
}

export function stopPod(pod: Pod): Promise<unknown> {
  if (pod.proc.exitCode === null && pod.proc.signalCode === null) pod.proc.kill('SIGKILL');
  return pod.exited;
}
