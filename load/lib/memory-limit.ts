// --service-memory: the local service under a memory limit, as a pod's
// `resources.limits.memory` puts it (the chart's default is 512Mi). V8 sizes
// its heap from the limit it sees, so a run without one measures a process
// with more memory than any pod of it has (docs/load-testing.md, "In a
// memory-limited pod"). The limit is applied by memory-cgroup.sh.
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.js';

const MEMORY_CGROUP_SH = fileURLToPath(new URL('./memory-cgroup.sh', import.meta.url));

const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
/** Below this Node.js itself barely starts: surely a typo. */
const MIN_BYTES = 64 * 1024 ** 2;

/** Bytes from a Kubernetes-style quantity: 512Mi, 1Gi, 600M, 536870912. */
export function parseMemoryLimit(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--service-memory expects a quantity like 512Mi, 1Gi or 600M, got "${text}"`);
  const bytes = Number(m[1]) * (UNITS[m[2] ?? ''] as number);
  if (bytes < MIN_BYTES) throw new UsageError(`--service-memory ${text} is below 64Mi: Node.js would not start`);
  return bytes;
}

export const formatMiB = (bytes: number): string => `${Math.round(bytes / 1024 ** 2)} MiB`;

/** Command prefix running what follows in a memory cgroup with this limit (empty for none). */
export function memoryCgroupPrefix(bytes: number | undefined): string[] {
  return bytes ? ['bash', MEMORY_CGROUP_SH, String(bytes)] : [];
}
