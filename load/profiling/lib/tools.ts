// 0x and clinic.js, installed on first use by install-tools.sh at the pinned
// versions (outside the checkout, outside the project's dependencies).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface ProfilingTools {
  /** 0x's CLI script (run with node). */
  zeroX: string;
  /** clinic's CLI script (run with node). */
  clinic: string;
}

export function installTools(): ProfilingTools {
  const r = spawnSync('bash', [join(REPO_ROOT, 'load', 'profiling', 'install-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = r.stdout.trim();
  if (r.status !== 0 || !dir) throw new Error('installing 0x and clinic.js failed (load/profiling/install-tools.sh)');
  const tools = {
    zeroX: join(dir, 'node_modules', '0x', 'cmd.js'),
    clinic: join(dir, 'node_modules', 'clinic', 'bin.js'),
  };
  for (const f of Object.values(tools)) if (!existsSync(f)) throw new Error(`${f} missing after install`);
  return tools;
}
