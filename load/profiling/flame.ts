// npm run profile:flame [-- scenario] [options]
//
// Builds the service, runs it under 0x, drives a load scenario from load/,
// stops it, and prints the path of the flamegraph HTML (profiles/…/flamegraph.html).
// Exit codes: 0 done, 2 bad usage, 3 the profile could not be made.
import { UsageError } from '../lib/errors.js';
import { COMMON_HELP, parseProfileArgs } from './lib/cli-args.js';
import { display } from './lib/paths.js';
import { ProfileError, profileUnderLoad } from './lib/under-profiler.js';

const HELP = `Usage: npm run profile:flame -- [scenario] [options]

Runs the built service under 0x (V8's sampling profiler, --prof) while a load
scenario drives it, then writes a self-contained flamegraph HTML under profiles/.

${COMMON_HELP}

Examples:
  npm run profile:flame
  npm run profile:flame -- steady --route /api/echo --method POST --body '{"message":"hi"}'
`;

async function main(): Promise<number> {
  let args: ReturnType<typeof parseProfileArgs>;
  try {
    args = parseProfileArgs(process.argv.slice(2), { scenario: 'steady', durationS: 15 });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`profile:flame: ${err.message}\n(npm run profile:flame -- --help)`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const r = await profileUnderLoad({ profiler: '0x', ...args });
    console.log(`\nflamegraph (${r.seconds} s): ${display(r.html)}`);
    if (r.loadExitCode !== 0)
      console.error(`profile:flame: the load exited with ${r.loadExitCode} (see ${display(r.dir)}/load.log)`);
    return 0;
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    console.error(`profile:flame: ${err.message}`);
    return 3;
  }
}

process.exitCode = await main();
