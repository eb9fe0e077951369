// Which cores the service and the load generator run on.
//
// A generator sharing a core with the server measures the two fighting for
// it, not the server. With two or more usable cores the service gets the
// first and the generator the second (taskset); the runner itself stays
// unpinned (it only scrapes /metrics once a second and draws the progress line).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Expands a kernel CPU list ("0-3,6") into core numbers. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const m = part.match(/^(\d+)(?:-(\d+))?$/);
    if (!m?.[1]) throw new Error(`not a CPU list: "${list}" (expected e.g. "0", "0-3" or "0,2")`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/** Cores this process may run on (its affinity mask), or null off Linux. */
export function allowedCpus(): number[] | null {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const line = status.split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
    return line ? parseCpuList(line.split(':')[1] ?? '') : null;
  } catch {
    return null;
  }
}

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export interface CpuPlan {
  service: string | null;
  generator: string | null;
  note: string;
}

/**
 * Default split, or the caller's (`serviceCpus`/`generatorCpus` in taskset's
 * list syntax). `pin: false` turns pinning off.
 */
export function planCpus(opts: { pin?: boolean; serviceCpus?: string; generatorCpus?: string }): CpuPlan {
  if (opts.pin === false) return { service: null, generator: null, note: 'CPU pinning off (--no-pin)' };
  if (!haveCommand('taskset')) {
    return { service: null, generator: null, note: 'taskset not found (util-linux): service and generator unpinned' };
  }
  if (opts.serviceCpus || opts.generatorCpus) {
    for (const list of [opts.serviceCpus, opts.generatorCpus]) if (list) parseCpuList(list);
    return {
      service: opts.serviceCpus ?? null,
      generator: opts.generatorCpus ?? null,
      note: `service on CPU ${opts.serviceCpus ?? 'any'}, generator on CPU ${opts.generatorCpus ?? 'any'} (as asked)`,
    };
  }
  const cpus = allowedCpus();
  if (!cpus || cpus.length < 2) {
    return {
      service: null,
      generator: null,
      note: `only ${cpus?.length ?? 'an unknown number of'} usable core(s): service and generator share them, so figures understate the service`,
    };
  }
  const [a, b] = cpus as [number, number];
  return { service: String(a), generator: String(b), note: `service pinned to CPU ${a}, generator to CPU ${b}` };
}

/** Command prefix running what follows on `cpus` (empty for null). */
export function tasksetPrefix(cpus: string | null): string[] {
  return cpus === null ? [] : ['taskset', '-c', cpus];
}
