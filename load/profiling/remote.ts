// npm run profile:remote -- --url http://127.0.0.1:9464 [--seconds 10] [--token T] [--kind cpu|heap]
// npm run profile:remote -- --input profile.pb.gz
//
// Fetches a live profile from a running service's admin port
// (/debug/pprof/profile or /debug/pprof/heap; PROFILING_ENABLED=true there),
// keeps the pprof file, and renders it into a self-contained flamegraph HTML.
// In Kubernetes: `kubectl port-forward` to the pod's admin port first
// (docs/runbooks/live-profiling.md). Exit codes: 0 done, 2 bad usage, 3 failed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../lib/errors.js';
import { renderFlamegraphHtml } from './lib/flamegraph-html.js';
import { display, PROFILES_DIR, stamp } from './lib/paths.js';
import { buildCallTree, decodePprof } from './lib/pprof-tree.js';

const HELP = `Usage: npm run profile:remote -- --url ADMIN_URL [options]
       npm run profile:remote -- --input FILE.pb.gz [--out DIR]

Takes a live profile from a running service (admin port, PROFILING_ENABLED=true)
and writes the pprof file and a self-contained flamegraph HTML under profiles/.

  --url URL        the admin origin, e.g. http://127.0.0.1:9464 (a kubectl port-forward)
  --seconds N      profile length, 1..60 (default 10)
  --kind K         cpu (default) or heap (allocations made in the window, still live at its end)
  --token T        bearer token; default $PROFILING_TOKEN (prefer the variable: a flag shows in ps and shell history)
  --input FILE     render a pprof file you already have instead of fetching one
  --out DIR        output folder (default profiles/remote-<kind>-<host>-<time>/)
  -h, --help

Then open the HTML, or explore the pprof file: go tool pprof -http=127.0.0.1:0 FILE
`;

class FetchError extends Error {}

interface Args {
  url?: string;
  seconds: number;
  kind: 'cpu' | 'heap';
  token?: string;
  input?: string;
  out?: string;
}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      seconds: { type: 'string' },
      kind: { type: 'string' },
      token: { type: 'string' },
      input: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (!values.url === !values.input)
    throw new UsageError('give either --url (fetch a live profile) or --input (a pprof file)');
  const seconds = values.seconds === undefined ? 10 : Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) {
    throw new UsageError(`--seconds must be a whole number from 1 to 60, got "${values.seconds}"`);
  }
  const kind = values.kind ?? 'cpu';
  if (kind !== 'cpu' && kind !== 'heap') throw new UsageError(`--kind must be cpu or heap, got "${kind}"`);
  if (values.url) {
    let u: URL;
    try {
      u = new URL(values.url);
    } catch {
      throw new UsageError(`--url must be a URL like http://127.0.0.1:9464, got "${values.url}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new UsageError(`--url must be http(s), got "${values.url}"`);
  }
  const token = values.token ?? process.env.PROFILING_TOKEN;
  if (values.url && !token) throw new UsageError('no token: set PROFILING_TOKEN (or pass --token)');
  return { url: values.url, seconds, kind, token, input: values.input, out: values.out };
}

async function fetchProfile(a: Args): Promise<{ body: Buffer; source: string }> {
  const origin = new URL(a.url as string).origin;
  const path = a.kind === 'cpu' ? '/debug/pprof/profile' : '/debug/pprof/heap';
  const source = `${origin}${path}?seconds=${a.seconds}`;
  console.log(`profile:remote: taking a ${a.seconds} s ${a.kind} profile from ${origin} ...`);
  let res: Response;
  try {
    res = await fetch(source, {
      headers: { authorization: `Bearer ${a.token}` },
      // The server answers after the window; allow for encoding and a slow link.
      signal: AbortSignal.timeout((a.seconds + 60) * 1000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new FetchError(`cannot reach ${origin} (${cause}); is the service (or the kubectl port-forward) running?`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) {
    let message = body.toString('utf8').slice(0, 300);
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON
    }
    const hint =
      res.status === 404
        ? ' (profiling is off on that service: PROFILING_ENABLED=true enables it)'
        : res.status === 401
          ? ' (wrong or missing token)'
          : '';
    throw new FetchError(`${source} answered ${res.status}: ${message}${hint}`);
  }
  return { body, source };
}

async function main(): Promise<number> {
  let args: Args | 'help';
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError) && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true)
      throw err;
    console.error(`profile:remote: ${(err as Error).message}\n(npm run profile:remote -- --help)`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const { body, source } = args.input
      ? { body: readFileSync(args.input), source: args.input }
      : await fetchProfile(args);
    const tree = buildCallTree(decodePprof(body));
    const host = args.url ? new URL(args.url).host.replace(/[^\w.-]/g, '_') : basename(args.input as string);
    const dir = args.out ?? join(PROFILES_DIR, `remote-${args.kind}-${host}-${stamp()}`);
    mkdirSync(dir, { recursive: true });
    const pprofFile = join(dir, `${args.kind}.pb.gz`);
    if (!args.input) writeFileSync(pprofFile, body);
    const kindName = tree.sampleTypes.some((t) => t.type.startsWith('inuse')) ? 'Heap (in use)' : 'CPU (wall time)';
    const taken = tree.startedMs ? new Date(tree.startedMs).toISOString() : 'unknown time';
    const length = tree.durationMs ? `${(tree.durationMs / 1000).toFixed(1)} s` : 'a';
    const html = renderFlamegraphHtml(tree, {
      title: `${kindName} profile — ${length} window at ${taken}`,
      subtitle: `from ${source}`,
    });
    const htmlFile = join(dir, 'flamegraph.html');
    writeFileSync(htmlFile, html);
    if (!args.input)
      console.log(`pprof:      ${display(pprofFile)}   (go tool pprof -http=127.0.0.1:0 ${display(pprofFile)})`);
    console.log(`flamegraph: ${display(htmlFile)}`);
    return 0;
  } catch (err) {
    if (err instanceof FetchError) {
      console.error(`profile:remote: ${err.message}`);
      return 3;
    }
    console.error(`profile:remote: ${(err as Error).message}`);
    return 3;
  }
}

process.exitCode = await main();
