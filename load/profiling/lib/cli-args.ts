// Arguments of profile:flame / profile:doctor / profile:bubbleprof / profile:heap:
//
//   [scenario] [--node PATH] [--service-env K=V]... [--out DIR] [load options...]
//
// The scenario comes first when given. Options this tool does not know are
// passed to `npm run load` unchanged (--duration, --connections, --route, ...).
import { UsageError } from '../../lib/errors.js';
import { scenarios } from '../../lib/run.js';

export interface ProfileArgs {
  scenario: string;
  loadArgs: string[];
  nodeBin?: string;
  serviceEnv: Record<string, string>;
  outDir?: string;
  help: boolean;
}

export function parseProfileArgs(argv: string[], defaults: { scenario: string; durationS: number }): ProfileArgs {
  const out: ProfileArgs = { scenario: defaults.scenario, loadArgs: [], serviceEnv: {}, help: false };
  let i = 0;
  if (argv[0] && !argv[0].startsWith('-')) {
    out.scenario = argv[0];
    i = 1;
  }
  if (!scenarios[out.scenario]) {
    throw new UsageError(`unknown scenario "${out.scenario}"; one of: ${Object.keys(scenarios).join(', ')}`);
  }
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-h' || a === '--help') out.help = true;
    else if (a === '--node') out.nodeBin = value(a);
    else if (a === '--out') out.outDir = value(a);
    else if (a === '--service-env') {
      const kv = value(a);
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--service-env expects KEY=VALUE, got "${kv}"`);
      out.serviceEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--target' || a === '--admin' || a.startsWith('--target=') || a.startsWith('--admin=')) {
      throw new UsageError(
        `${a.split('=')[0]}: this command starts its own service under the profiler; for a running one use npm run profile:remote`,
      );
    } else out.loadArgs.push(a);
  }
  if (!out.loadArgs.some((a) => a === '--duration' || a.startsWith('--duration='))) {
    out.loadArgs.push('--duration', String(defaults.durationS));
  }
  return out;
}

export const COMMON_HELP = `Arguments:
  [scenario]            a load scenario (default steady): ${Object.keys(scenarios).join(', ')}
  --node PATH           node binary for the service (default: $LOAD_SERVICE_NODE or this node)
  --service-env K=V     extra environment for the service (repeatable)
  --out DIR             output folder (default profiles/<tool>-<scenario>-<time>/)
  other options         passed to npm run load (see npm run load -- --help), e.g.
                        --duration S (default 15), --connections N, --route /api/sleep?ms=50`;
