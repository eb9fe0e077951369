// The load driver a profiler runs once the profiled service opens its first
// port (0x and clinic's --on-port): wait until the service is ready, run a
// load scenario from load/ against it, exit with the load's exit code. When
// this exits, the profiler stops the service and writes its report — the
// stop path each tool is built for (see lib/under-profiler.ts).
//
//   node --import tsx load/profiling/drive.ts --admin URL --done FILE -- <load/cli.ts arguments>
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pollReady } from '../lib/service.js';
import { REPO_ROOT } from './lib/paths.js';

const READY_TIMEOUT_MS = 120_000;

// The first port (admin) is open when this starts; the app may still be starting.
async function waitReady(adminUrl: string): Promise<void> {
  if ((await pollReady(adminUrl, { timeoutMs: READY_TIMEOUT_MS })) !== 'ready') {
    throw new Error(`the service was not ready within ${READY_TIMEOUT_MS / 1000} s (${adminUrl}/readyz)`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { admin: { type: 'string' }, done: { type: 'string' } },
  });
  if (!values.admin || !values.done) throw new Error('usage: drive.ts --admin URL --done FILE -- <load args>');
  const done = values.done;
  // clinic heapprofiler can run its --on-port command twice (a race in how its
  // preload reports ports). The second copy must not load the service again:
  // it waits for the first to finish, then exits, so the tool still sees its
  // command end after the load and stops the service then.
  try {
    closeSync(openSync(`${done}.lock`, 'wx'));
  } catch {
    console.log('drive: the profiler started the load driver twice; this copy waits for the first');
    while (!existsSync(done)) await new Promise((r) => setTimeout(r, 200));
    return 0;
  }
  let code = 3;
  try {
    await waitReady(values.admin);
    console.log(`drive: service ready; npm run load -- ${positionals.join(' ')}`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'load', 'cli.ts'), ...positionals], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 130 : 3))));
  } catch (err) {
    console.error(`drive: ${(err as Error).message}`);
  } finally {
    // The orchestrator watches for this: the load is over, the profiler should now stop the service.
    writeFileSync(done, `${code}\n`);
  }
  return code;
}

process.exitCode = await main();
