// pprof (the protobuf Go's tools, Pyroscope and @datadog/pprof share) →
// a call tree, the shape a flamegraph draws.
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';

export type Category = 'app' | 'deps' | 'node' | 'native';

export interface FrameNode {
  name: string;
  file: string;
  line: number;
  category: Category;
  /** Inclusive value per sample type (the profile's sampleType order). */
  total: number[];
  /** Value of samples whose leaf is this frame, per sample type. */
  self: number[];
  children: FrameNode[];
}

export interface CallTree {
  /** "type/unit" of each value, e.g. ["sample/count", "wall/nanoseconds"]. */
  sampleTypes: Array<{ type: string; unit: string }>;
  /** Index of the type to show first: the profile's default, else the last (pprof's convention). */
  defaultType: number;
  root: FrameNode;
  /** Epoch ms the profile started, and its length (0 when the profile does not say). */
  startedMs: number;
  durationMs: number;
}

/** Decodes a pprof file, gzipped (as served) or not. */
export function decodePprof(data: Uint8Array): Profile {
  const raw = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  return Profile.decode(raw);
}

function categoryOf(name: string, file: string): Category {
  if (file.startsWith('node:') || file.startsWith('internal/')) return 'node';
  if (file.includes('/node_modules/')) return 'deps';
  if (!file || name.startsWith('(')) return 'native';
  return 'app';
}

export function buildCallTree(profile: Profile): CallTree {
  const str = (i: unknown) => profile.stringTable.strings[Number(i)] ?? '';
  const sampleTypes = profile.sampleType.map((t) => ({ type: str(t.type), unit: str(t.unit) }));
  const n = sampleTypes.length;
  if (n === 0) throw new Error('the profile has no sample types');
  const defaultName = str(profile.defaultSampleType);
  const byName = sampleTypes.findIndex((t) => t.type === defaultName);
  const defaultType = defaultName && byName >= 0 ? byName : n - 1;

  const functions = new Map(profile.function.map((f) => [String(f.id), f]));
  /** Frames of a location, outermost first (pprof lists inlined callees before their caller). */
  const framesOf = new Map<string, Array<{ key: string; name: string; file: string; line: number }>>();
  for (const loc of profile.location) {
    const frames = [...loc.line].reverse().map((ln) => {
      const fn = functions.get(String(ln.functionId));
      const name = fn ? str(fn.name) || '(anonymous)' : '(unknown)';
      const file = fn ? str(fn.filename) : '';
      // Where the function starts (a sample's own line varies from sample to sample).
      return { key: `${name}\u0000${file}`, name, file, line: Number(fn?.startLine ?? 0) || Number(ln.line) };
    });
    framesOf.set(String(loc.id), frames);
  }

  const zeros = () => new Array<number>(n).fill(0);
  const root: FrameNode = {
    name: 'all',
    file: '',
    line: 0,
    category: 'native',
    total: zeros(),
    self: zeros(),
    children: [],
  };
  const index = new WeakMap<FrameNode, Map<string, FrameNode>>();
  const child = (parent: FrameNode, f: { key: string; name: string; file: string; line: number }) => {
    let map = index.get(parent);
    if (!map) {
      map = new Map();
      index.set(parent, map);
    }
    let node = map.get(f.key);
    if (!node) {
      node = {
        name: f.name,
        file: f.file,
        line: f.line,
        category: categoryOf(f.name, f.file),
        total: zeros(),
        self: zeros(),
        children: [],
      };
      map.set(f.key, node);
      parent.children.push(node);
    }
    return node;
  };

  for (const sample of profile.sample) {
    const values = sample.value.map(Number);
    if (values.every((v) => v === 0)) continue;
    let node = root;
    for (let i = 0; i < n; i++) root.total[i] = (root.total[i] as number) + (values[i] ?? 0);
    // locationId[0] is the leaf: walk from the last (the outermost caller) down.
    for (let l = sample.locationId.length - 1; l >= 0; l--) {
      for (const f of framesOf.get(String(sample.locationId[l])) ?? []) {
        node = child(node, f);
        for (let i = 0; i < n; i++) node.total[i] = (node.total[i] as number) + (values[i] ?? 0);
      }
    }
    for (let i = 0; i < n; i++) node.self[i] = (node.self[i] as number) + (values[i] ?? 0);
  }

  const sortDesc = (node: FrameNode) => {
    node.children.sort((a, b) => (b.total[defaultType] as number) - (a.total[defaultType] as number));
    for (const c of node.children) sortDesc(c);
  };
  sortDesc(root);

  return {
    sampleTypes,
    defaultType,
    root,
    startedMs: Number(profile.timeNanos) / 1e6,
    durationMs: Number(profile.durationNanos) / 1e6,
  };
}

/** Self value per function (name + file), largest first: what `go tool pprof -top` lists as "flat". */
export function topFunctions(
  tree: CallTree,
  type: number,
  limit = 20,
): Array<{ node: FrameNode; self: number; total: number }> {
  const acc = new Map<string, { node: FrameNode; self: number; total: number }>();
  const visit = (node: FrameNode, onStack: Set<string>) => {
    const key = `${node.name}\u0000${node.file}`;
    let e = acc.get(key);
    if (!e) {
      e = { node, self: 0, total: 0 };
      acc.set(key, e);
    }
    e.self += node.self[type] as number;
    // Recursion: count a function's inclusive value once per stack.
    if (!onStack.has(key)) e.total += node.total[type] as number;
    const next = new Set(onStack).add(key);
    for (const c of node.children) visit(c, next);
  };
  for (const c of tree.root.children) visit(c, new Set());
  return [...acc.values()].sort((a, b) => b.self - a.self).slice(0, limit);
}
