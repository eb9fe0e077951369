// How busy the rest of the machine was during a run. On a shared machine a
// figure means little without it: the runner takes /proc/stat before and
// after, subtracts the CPU time the service, the generator and the runner
// used, and reports what everything else took, as a share of all cores.
import { readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** All jiffies across cores (busy + idle), and the busy part. */
  total: number;
  busy: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 8 || f.some((v) => !Number.isFinite(v))) return null;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const busy = user + nice + system + irq + softirq + steal;
    return { total: busy + idle + iowait, busy };
  } catch {
    return null;
  }
}

/**
 * Share of the machine's CPU capacity used by others between two snapshots,
 * given the CPU seconds our own processes used meanwhile. Jiffies are 1/100 s.
 */
export function otherCpuShare(
  before: CpuSnapshot | null,
  after: CpuSnapshot | null,
  ownCpuSeconds: number,
): number | null {
  if (!before || !after) return null;
  const total = after.total - before.total;
  if (total <= 0) return null;
  const others = after.busy - before.busy - ownCpuSeconds * 100;
  return Math.round(Math.min(1, Math.max(0, others / total)) * 1000) / 1000;
}

/**
 * The kernel's count of connections dropped because a listen socket's accept
 * queue was full (TcpExt ListenOverflows, machine-wide). When a server's
 * event loop is too busy to accept, new connections wait in that queue; once
 * it is full (Node's default backlog is 511), SYNs are dropped and clients
 * retry after 1, 3, 7, 15 s.
 */
export function listenOverflows(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const head = (lines[i] as string).split(/\s+/);
      const vals = (lines[i + 1] as string).split(/\s+/);
      if (head[0] !== 'TcpExt:') continue;
      const idx = head.indexOf('ListenOverflows');
      const v = idx > 0 ? Number(vals[idx]) : Number.NaN;
      return Number.isFinite(v) ? v : null;
    }
    return null;
  } catch {
    return null;
  }
}
