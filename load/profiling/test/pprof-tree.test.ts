// The pprof → call tree → HTML path on a profile built by hand, where every
// value is known: stack order, inlined frames, recursion, sample types, and
// that hostile function names cannot break out of the page.
import { gzipSync } from 'node:zlib';
import { Function as Fn, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { renderFlamegraphHtml } from '../lib/flamegraph-html.js';
import { buildCallTree, decodePprof, type FrameNode, topFunctions } from '../lib/pprof-tree.js';

/** A profile with sample types [samples/count, wall/nanoseconds] from stacks written root-first. */
function profileOf(stacks: Array<{ frames: string[][]; values: [number, number] }>): Profile {
  const st = new StringTable();
  const fns = new Map<string, Fn>();
  const fn = (name: string, file: string) => {
    const key = `${name}@${file}`;
    let f = fns.get(key);
    if (!f) {
      f = new Fn({ id: fns.size + 1, name: st.dedup(name), filename: st.dedup(file), startLine: 1 });
      fns.set(key, f);
    }
    return f;
  };
  const locations: Location[] = [];
  const samples: Sample[] = [];
  for (const s of stacks) {
    // Each entry of `frames` is one location: [callee, ..., caller] when inlined, root-first overall.
    const ids = s.frames.map((loc) => {
      const l = new Location({
        id: locations.length + 1,
        line: loc.map(
          (name) => new Line({ functionId: fn(name, name.startsWith('app') ? '/srv/app.ts' : 'node:x').id, line: 7 }),
        ),
      });
      locations.push(l);
      return l.id;
    });
    samples.push(new Sample({ locationId: ids.reverse(), value: s.values }));
  }
  return new Profile({
    sampleType: [
      new ValueType({ type: st.dedup('sample'), unit: st.dedup('count') }),
      new ValueType({ type: st.dedup('wall'), unit: st.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locations,
    function: [...fns.values()],
    stringTable: st,
    timeNanos: 1_700_000_000_000_000_000n,
    durationNanos: 2_000_000_000,
  });
}

const child = (n: FrameNode, name: string) => {
  const c = n.children.find((x) => x.name === name);
  if (!c) throw new Error(`no child ${name} under ${n.name}: ${n.children.map((x) => x.name)}`);
  return c;
};

describe('buildCallTree', () => {
  const profile = profileOf([
    { frames: [['main'], ['appHandler'], ['appHot']], values: [3, 3_000_000] },
    { frames: [['main'], ['appHandler']], values: [1, 1_000_000] },
    // appInlined was inlined into appCaller: one location, callee first.
    { frames: [['main'], ['appInlined', 'appCaller']], values: [2, 2_000_000] },
    // Recursion: appRec → appRec → appRec.
    { frames: [['main'], ['appRec'], ['appRec'], ['appRec']], values: [5, 5_000_000] },
  ]);

  it('decodes gzipped and plain pprof alike', () => {
    const plain = profile.encode();
    expect(decodePprof(gzipSync(plain)).sample).toHaveLength(4);
    expect(decodePprof(plain).sample).toHaveLength(4);
  });

  it('builds stacks root-first, with inclusive and self values per sample type', () => {
    const tree = buildCallTree(decodePprof(profile.encode()));
    expect(tree.sampleTypes).toEqual([
      { type: 'sample', unit: 'count' },
      { type: 'wall', unit: 'nanoseconds' },
    ]);
    expect(tree.defaultType).toBe(1); // no default given: the last type, as pprof does
    expect(tree.durationMs).toBe(2000);
    expect(tree.root.total).toEqual([11, 11_000_000]);
    const main = child(tree.root, 'main');
    expect(main.total).toEqual([11, 11_000_000]);
    const handler = child(main, 'appHandler');
    expect(handler.total).toEqual([4, 4_000_000]);
    expect(handler.self).toEqual([1, 1_000_000]);
    expect(child(handler, 'appHot').self).toEqual([3, 3_000_000]);
    expect(handler.category).toBe('app');
    expect(handler.line).toBe(1); // where the function starts, not the sampled line (7)
    expect(main.category).toBe('node');
  });

  it('puts an inlined callee under its caller', () => {
    const tree = buildCallTree(decodePprof(profile.encode()));
    const caller = child(child(tree.root, 'main'), 'appCaller');
    expect(child(caller, 'appInlined').self).toEqual([2, 2_000_000]);
  });

  it('sorts children by the default type, largest first', () => {
    const tree = buildCallTree(decodePprof(profile.encode()));
    expect(child(tree.root, 'main').children.map((c) => c.name)).toEqual(['appRec', 'appHandler', 'appCaller']);
  });

  it('counts a recursive function once per stack in the top list', () => {
    const tree = buildCallTree(decodePprof(profile.encode()));
    const top = topFunctions(tree, 1);
    const rec = top.find((t) => t.node.name === 'appRec');
    expect(rec).toMatchObject({ self: 5_000_000, total: 5_000_000 });
    expect(top[0]?.node.name).toBe('appRec');
  });
});

describe('renderFlamegraphHtml', () => {
  it('is self-contained and keeps hostile names inside the data', () => {
    const evil = 'app</script><script>alert(1)</script>';
    const tree = buildCallTree(
      decodePprof(profileOf([{ frames: [['main'], [evil]], values: [1, 1_000_000] }]).encode()),
    );
    const html = renderFlamegraphHtml(tree, { title: 'T <b>', subtitle: 'from <x>' });
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script[^>]*\ssrc=/);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('<title>T &lt;b&gt;</title>');
    // Exactly the two script elements the page is made of.
    expect(html.match(/<script\b/g)).toHaveLength(2);
  });
});
