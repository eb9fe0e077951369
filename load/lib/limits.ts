// Open-file limits and ephemeral ports: what 10,000 connections need.
//
// Every TCP connection is a file descriptor, on the generator and on the
// server. Node raises its own soft RLIMIT_NOFILE to the hard limit at start-up,
// so the number that matters is the hard limit; the runner still spawns both
// processes through `prlimit` (soft = hard, or higher when running as root)
// so a non-Node wrapper in between cannot lower it, and then reads the limits
// each process really has from /proc/<pid>/limits before loading it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { FdLimits } from './types.js';

/** Descriptors a process needs beyond its connections: stdio, listeners, log files, the admin port, DNS, ... */
export const FD_HEADROOM = 256;

function parseLimit(text: string): number {
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

/** Open-files limits of a process (default: this one), from /proc; null where /proc is not Linux's. */
export function readFdLimits(pid: number | 'self' = 'self'): FdLimits | null {
  try {
    const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('Max open files'));
    const m = line?.match(/^Max open files\s+(\S+)\s+(\S+)/);
    if (!m?.[1] || !m[2]) return null;
    return { soft: parseLimit(m[1]), hard: parseLimit(m[2]) };
  } catch {
    return null;
  }
}

function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** How many local ports one client IP can use towards one server ip:port. */
export function ephemeralPortCount(): number | null {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) return null;
    return hi - lo + 1;
  } catch {
    return null;
  }
}

export interface NofilePlan {
  /** The limit to give children (soft and hard), or null to leave them as they are. */
  target: number | null;
  /** The limit children will have: enough for `needed` or not. */
  effective: number;
  needed: number;
}

/**
 * What open-files limit children can get: the hard limit, or — as root, with
 * CAP_SYS_RESOURCE — more, up to the kernel's fs.nr_open.
 */
export function planNofile(needed: number, own = readFdLimits(), canRaise = canRaiseHardLimit): NofilePlan {
  if (!own) return { target: null, effective: Number.POSITIVE_INFINITY, needed };
  let target = own.hard;
  if (own.hard < needed && process.getuid?.() === 0) {
    const higher = Math.min(readNumber('/proc/sys/fs/nr_open') ?? needed, needed);
    // Root without CAP_SYS_RESOURCE (a container's default) may not: then the hard limit it is.
    if (higher > own.hard && canRaise(higher)) target = higher;
  }
  return { target: Number.isFinite(target) ? target : null, effective: target, needed };
}

/** Whether this process may give a child a hard open-files limit of `n` (tries it on `true`). */
function canRaiseHardLimit(n: number): boolean {
  return spawnSync('prlimit', [`--nofile=${n}:${n}`, 'true'], { stdio: 'ignore' }).status === 0;
}

/** Command prefix that sets the open-files limit of what follows (empty when prlimit is missing or nothing to do). */
export function prlimitPrefix(plan: NofilePlan, havePrlimit: boolean): string[] {
  if (!havePrlimit || plan.target === null) return [];
  return ['prlimit', `--nofile=${plan.target}:${plan.target}`, '--'];
}

/** One paragraph, with the numbers, on why `connections` cannot be opened; null when they can. */
export function explainFdShortfall(
  who: 'generator' | 'service',
  limits: FdLimits | null,
  connections: number,
): string | null {
  if (!limits) return null;
  const needed = connections + FD_HEADROOM;
  if (limits.soft >= needed) return null;
  const uid = process.getuid?.();
  return [
    `The ${who} process may open ${limits.soft} files (soft limit; hard limit ${limits.hard}),`,
    `but ${connections.toLocaleString('en-US')} connections need about ${needed.toLocaleString('en-US')}`,
    `(one descriptor per connection plus ${FD_HEADROOM} for everything else).`,
    uid === 0
      ? 'Even as root the limit could not be raised (fs.nr_open or a container limit caps it).'
      : `Only root can raise a hard limit: \`sudo prlimit --pid $$ --nofile=${needed}:${needed}\` for this shell,`,
    uid === 0
      ? `Raise fs.nr_open (\`sysctl -w fs.nr_open=${needed}\`) or the container's limit (docker run --ulimit nofile=${needed}:${needed}).`
      : `or \`nofile\` in /etc/security/limits.conf, LimitNOFILE= in a systemd unit, or --ulimit nofile=${needed}:${needed} for a container.`,
  ].join(' ');
}

/** Null when one client can open `connections` to one server address, else why not. */
export function explainPortShortfall(connections: number, ports = ephemeralPortCount()): string | null {
  if (ports === null || ports >= connections) return null;
  return (
    `net.ipv4.ip_local_port_range allows ${ports} local ports per destination, fewer than ${connections} connections: ` +
    `widen it (sysctl -w net.ipv4.ip_local_port_range="1024 65000") or spread the load over several target addresses.`
  );
}
