// npm run load -- <scenario> [options]      (see --help)
//
// Exit codes: 0 done (SLO passed or none set), 1 an SLO objective failed,
// 2 bad usage or SLO file, 3 the run could not be done (service did not start,
// not enough open files, generator failure), 130 interrupted (Ctrl-C).
import { parseArgs } from 'node:util';
import { parseMemoryLimit } from './lib/memory-limit.js';
import {
  LimitError,
  RunError,
  type RunOptions,
  runScenario,
  ServiceStartError,
  scenarios,
  UsageError,
} from './lib/run.js';
import { SloFileError } from './lib/slo.js';

const HELP = `Usage: npm run load -- <scenario> [options]

Scenarios:
${Object.values(scenarios)
  .map((s) => `  ${s.name.padEnd(8)} ${s.description}`)
  .join('\n')}

Options:
  --target URL          load this origin (e.g. http://127.0.0.1:3000, a port-forwarded pod);
                        default: build and start the service locally on free ports, stop it after
  --admin URL           its admin origin, scraped for server-side series (local service: automatic)
  --duration S          measured seconds (per step for stress); warm-up comes on top
  --connections N       concurrent keep-alive connections (spike: the burst; stress: the first step)
  --rate R              cap at R requests/s overall (stress: ramp the rate from R instead)
  --route PATH          request path, e.g. /api/sleep?ms=50 (replaces the scenario's requests)
  --method M --body JSON --header 'name: value'   for --route
  --timeout S           per-request timeout (default 10)
  --baseline-connections N   c10k: connections of the reference step (default 1000, 0 skips it)
  --max-steps N         stress: most ramp steps (default 10)
  --slo FILE            objectives (YAML/JSON; default load/slo.yaml); --no-slo for none
  --out DIR             result folder (default results/<scenario>-<time>)
  --node PATH           node binary for the local service (or LOAD_SERVICE_NODE)
  --generator-node PATH node binary for the load generator (default: the one running this)
  --service-env K=V     extra environment for the local service (repeatable)
  --service-config FILE runtime config (CONFIG_FILE) for the local service; 'default' for none
                        (c10k and soak bring their own, printed when used)
  --service-memory Q    run the local service in a memory cgroup of Q (512Mi, 1Gi), as a pod's
                        memory limit does: V8 sizes its heap from it (needs root)
  --no-pin              don't pin service and generator to separate cores
  --service-cpus LIST --generator-cpus LIST   taskset CPU lists (default 0 and 1)
  --quiet               no live progress
  -h, --help

Examples:
  npm run load -- smoke
  npm run load -- c10k
  npm run load -- steady --route /api/sleep?ms=50 --connections 500 --duration 60
  npm run load -- stress --target http://127.0.0.1:8080 --admin http://127.0.0.1:9464
`;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  return Number(v);
}

function pairs(name: string, list: string[] | undefined, sep: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf(sep);
    if (i <= 0) throw new UsageError(`--${name} expects "key${sep}value", got "${item}"`);
    out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

export function parseCli(argv: string[]): { scenario: string; options: RunOptions } | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      admin: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      route: { type: 'string' },
      method: { type: 'string' },
      body: { type: 'string' },
      header: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      'baseline-connections': { type: 'string' },
      'max-steps': { type: 'string' },
      slo: { type: 'string' },
      'no-slo': { type: 'boolean' },
      out: { type: 'string' },
      node: { type: 'string' },
      'generator-node': { type: 'string' },
      'service-env': { type: 'string', multiple: true },
      'service-config': { type: 'string' },
      'service-memory': { type: 'string' },
      'no-pin': { type: 'boolean' },
      'service-cpus': { type: 'string' },
      'generator-cpus': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(
      `expected one scenario (${Object.keys(scenarios).join(', ')}), got ${positionals.length ? positionals.join(' ') : 'none'}`,
    );
  }
  if (values.admin && !values.target)
    throw new UsageError('--admin goes with --target (a local service is scraped automatically)');
  if (values['service-memory'] && values.target)
    throw new UsageError('--service-memory applies to the local service; a --target runs under its own limits');
  if (values.slo && values['no-slo']) throw new UsageError('--slo and --no-slo contradict each other');
  const options: RunOptions = {
    ...(values.target ? { target: values.target } : {}),
    ...(values.admin ? { adminUrl: values.admin } : {}),
    durationS: int('duration', values.duration),
    connections: int('connections', values.connections),
    rate: int('rate', values.rate),
    timeoutS: int('timeout', values.timeout),
    baselineConnections: int('baseline-connections', values['baseline-connections']),
    maxSteps: int('max-steps', values['max-steps']),
    ...(values.route ? { route: values.route } : {}),
    ...(values.method ? { method: values.method } : {}),
    ...(values.body !== undefined ? { body: values.body } : {}),
    headers: pairs('header', values.header, ':'),
    sloFile: values['no-slo'] ? null : values.slo,
    ...(values.out ? { outDir: values.out } : {}),
    ...(values.node ? { nodeBin: values.node } : {}),
    ...(values['generator-node'] ? { generatorNodeBin: values['generator-node'] } : {}),
    serviceEnv: pairs('service-env', values['service-env'], '='),
    ...(values['service-config'] ? { serviceConfig: values['service-config'] } : {}),
    ...(values['service-memory'] ? { serviceMemoryBytes: parseMemoryLimit(values['service-memory']) } : {}),
    pin: !values['no-pin'],
    ...(values['service-cpus'] ? { serviceCpus: values['service-cpus'] } : {}),
    ...(values['generator-cpus'] ? { generatorCpus: values['generator-cpus'] } : {}),
    progress: !values.quiet,
    command: `npm run load -- ${argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}`,
  };
  // Drop undefined keys so defaults apply.
  for (const k of Object.keys(options) as Array<keyof RunOptions>) if (options[k] === undefined) delete options[k];
  return { scenario: positionals[0] as string, options };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`load: ${(err as Error).message}\n(npm run load -- --help for usage)`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const { result, exitCode } = await runScenario(parsed.scenario, parsed.options);
    if (!result.complete && result.interruption?.startsWith('SIG')) return 130;
    return exitCode;
  } catch (err) {
    if (err instanceof UsageError || err instanceof SloFileError) {
      console.error(`load: ${err.message}`);
      return 2;
    }
    if (err instanceof LimitError || err instanceof ServiceStartError || err instanceof RunError) {
      console.error(`load: ${err.message}`);
      return 3;
    }
    console.error(`load: ${(err as Error).stack ?? err}`);
    return 3;
  }
}

process.exitCode = await main();
