// npm run profile:doctor | profile:bubbleprof | profile:heap [-- scenario] [options]
//
//   tsx load/profiling/clinic.ts <doctor|bubbleprof|heapprofiler> [scenario] [options]
//
// Runs the built service under a clinic.js tool while a load scenario drives
// it and prints the path of clinic's HTML report. clinic.js is no longer
// maintained; what works on which Node version is in docs/profiling.md.
// Exit codes: 0 done, 2 bad usage, 3 the report could not be made.
import { UsageError } from '../lib/errors.js';
import { COMMON_HELP, parseProfileArgs } from './lib/cli-args.js';
import { display } from './lib/paths.js';
import { ProfileError, type Profiler, profileUnderLoad } from './lib/under-profiler.js';

const TOOLS: Record<string, { script: string; what: string }> = {
  doctor: { script: 'profile:doctor', what: 'event-loop delay, CPU, memory and handles over time, with a diagnosis' },
  bubbleprof: { script: 'profile:bubbleprof', what: 'where asynchronous operations wait (async_hooks)' },
  heapprofiler: { script: 'profile:heap', what: 'a flamegraph of memory allocations' },
};

async function main(): Promise<number> {
  const [tool, ...rest] = process.argv.slice(2);
  const spec = tool ? TOOLS[tool] : undefined;
  if (!tool || !spec) {
    console.error(`clinic.ts: first argument must be one of ${Object.keys(TOOLS).join(', ')}`);
    return 2;
  }
  let args: ReturnType<typeof parseProfileArgs>;
  try {
    args = parseProfileArgs(rest, { scenario: 'steady', durationS: 15 });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${spec.script}: ${err.message}\n(npm run ${spec.script} -- --help)`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(
      `Usage: npm run ${spec.script} -- [scenario] [options]\n\nRuns the built service under clinic ${tool} (${spec.what})\nwhile a load scenario drives it; writes clinic's HTML report under profiles/.\n\n${COMMON_HELP}\n`,
    );
    return 0;
  }
  try {
    const r = await profileUnderLoad({ profiler: tool as Profiler, ...args });
    console.log(`\nclinic ${tool} report (${r.seconds} s): ${display(r.html)}`);
    if (r.loadExitCode !== 0)
      console.error(`${spec.script}: the load exited with ${r.loadExitCode} (see ${display(r.dir)}/load.log)`);
    return 0;
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    console.error(`${spec.script}: ${err.message}`);
    return 3;
  }
}

process.exitCode = await main();
