// A call tree → one self-contained HTML flamegraph (no network, no external
// script: it opens from a file, offline, in a CSP-locked page). Drawn in SVG
// top-down (callers above callees, as pprof's and Pyroscope's UIs do):
// click a frame to zoom into it, click the top bar to zoom out, hover for
// details, search to highlight, switch the sample type (e.g. wall time vs
// samples, in-use bytes vs objects). Below the graph: the top functions by
// self value, like `go tool pprof -top`.
import { escapeMarkup, scriptJson } from '../../lib/html.js';
import type { CallTree, Category, FrameNode } from './pprof-tree.js';

export interface RenderInfo {
  title: string;
  /** One line under the title (where the profile came from). */
  subtitle?: string;
}

const CATEGORIES: Record<Category, { label: string; hue: number; sat: number }> = {
  app: { label: 'application', hue: 24, sat: 90 },
  deps: { label: 'node_modules', hue: 205, sat: 65 },
  node: { label: 'Node.js core', hue: 130, sat: 45 },
  native: { label: 'native / V8 / GC', hue: 0, sat: 0 },
};
const CATEGORY_ORDER: Category[] = ['app', 'deps', 'node', 'native'];

/** Frames narrower than this share of every sample type are left out (they would be under a pixel wide). */
const MIN_SHARE = 1e-4;

type Packed = [
  name: number,
  file: number,
  line: number,
  category: number,
  total: number[],
  self: number[],
  children: Packed[],
];

function pack(tree: CallTree): { strings: string[]; root: Packed } {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const id = (s: string) => {
    let i = ids.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      ids.set(s, i);
    }
    return i;
  };
  const rootTotals = tree.root.total;
  const keep = (n: FrameNode) =>
    n.total.some((v, i) => (rootTotals[i] as number) > 0 && v / (rootTotals[i] as number) >= MIN_SHARE);
  const walk = (n: FrameNode): Packed => [
    id(n.name),
    id(n.file),
    n.line,
    CATEGORY_ORDER.indexOf(n.category),
    n.total,
    n.self,
    n.children.filter(keep).map(walk),
  ];
  return { strings, root: walk(tree.root) };
}

export function renderFlamegraphHtml(tree: CallTree, info: RenderInfo): string {
  const data = {
    ...pack(tree),
    sampleTypes: tree.sampleTypes,
    defaultType: tree.defaultType,
    categories: CATEGORY_ORDER.map((c) => CATEGORIES[c]),
  };
  const legend = CATEGORY_ORDER.map(
    (c) =>
      `<span class="swatch" style="background:hsl(${CATEGORIES[c].hue} ${CATEGORIES[c].sat}% 62%)"></span>${CATEGORIES[c].label}`,
  ).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeMarkup(info.title)}</title>
<style>
  body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #fff; }
  header { padding: 12px 16px 6px; }
  h1 { font-size: 17px; margin: 0 0 2px; }
  .sub { color: #555; }
  .bar { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; padding: 6px 16px 10px; border-bottom: 1px solid #ddd; }
  .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin: 0 4px 0 8px; vertical-align: -1px; }
  input, select, button { font: inherit; }
  #search { width: 16em; }
  #flame { display: block; width: 100%; }
  #flame text { font: 11px ui-monospace, SFMono-Regular, Menlo, monospace; pointer-events: none; fill: #111; }
  #flame rect { stroke: #fff; stroke-width: 0.5; cursor: pointer; }
  #flame rect.match { fill: #e040fb !important; }
  #flame rect.ancestor { opacity: 0.55; }
  #tip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 6px 8px; border-radius: 4px;
         font: 12px/1.35 ui-monospace, monospace; max-width: 60ch; display: none; white-space: pre-wrap; z-index: 2; }
  main { padding: 0 16px 24px; }
  table { border-collapse: collapse; margin-top: 14px; font: 12px ui-monospace, monospace; }
  th, td { text-align: right; padding: 2px 10px; border-bottom: 1px solid #eee; }
  th:last-child, td:last-child { text-align: left; }
  caption { text-align: left; font: 600 13px system-ui, sans-serif; padding-bottom: 4px; }
</style>
</head>
<body>
<header>
  <h1>${escapeMarkup(info.title)}</h1>
  ${info.subtitle ? `<div class="sub">${escapeMarkup(info.subtitle)}</div>` : ''}
</header>
<div class="bar">
  <label>Sample type <select id="type"></select></label>
  <label>Search <input id="search" type="search" placeholder="function or file (regex)"></label>
  <span id="matched"></span>
  <button id="reset" type="button">Reset zoom</button>
  <span>${legend}</span>
</div>
<main>
  <svg id="flame" role="img" aria-label="flame graph"></svg>
  <table id="top"></table>
</main>
<div id="tip"></div>
<script id="profile-data" type="application/json">${scriptJson(data)}</script>
<script>
(() => {
  'use strict';
  const DATA = JSON.parse(document.getElementById('profile-data').textContent);
  const S = DATA.strings;
  const ROW = 18;
  const svg = document.getElementById('flame');
  const tip = document.getElementById('tip');
  const typeSel = document.getElementById('type');
  const search = document.getElementById('search');
  const matched = document.getElementById('matched');
  const NS = 'http://www.w3.org/2000/svg';

  // Unpacked nodes with parent links.
  function unpack(p, parent, depth) {
    const n = { name: S[p[0]], file: S[p[1]], line: p[2], cat: p[3], total: p[4], self: p[5], parent, depth, children: [] };
    n.children = p[6].map((c) => unpack(c, n, depth + 1));
    return n;
  }
  const root = unpack(DATA.root, null, 0);
  let type = DATA.defaultType;
  let focus = root;
  let pattern = null;

  DATA.sampleTypes.forEach((t, i) => {
    const o = document.createElement('option');
    o.value = String(i);
    o.textContent = t.type + ' (' + t.unit + ')';
    if (i === type) o.selected = true;
    typeSel.appendChild(o);
  });

  function fmt(v) {
    const unit = DATA.sampleTypes[type].unit;
    if (unit === 'nanoseconds') return v >= 1e9 ? (v / 1e9).toFixed(2) + ' s' : (v / 1e6).toFixed(1) + ' ms';
    if (unit === 'microseconds') return v >= 1e6 ? (v / 1e6).toFixed(2) + ' s' : (v / 1e3).toFixed(1) + ' ms';
    if (unit === 'bytes') {
      const k = ['B', 'KiB', 'MiB', 'GiB'];
      let i = 0;
      while (v >= 1024 && i < k.length - 1) { v /= 1024; i++; }
      return v.toFixed(i ? 1 : 0) + ' ' + k[i];
    }
    return Math.round(v).toLocaleString('en') + (unit === 'count' ? '' : ' ' + unit);
  }
  function pct(v) { return root.total[type] ? (100 * v / root.total[type]).toFixed(2) + '%' : '-'; }

  function colour(n) {
    const c = DATA.categories[n.cat];
    // Stable variation per function name so neighbours are told apart.
    let h = 0;
    for (let i = 0; i < n.name.length; i++) h = (h * 31 + n.name.charCodeAt(i)) | 0;
    const light = 52 + (Math.abs(h) % 22);
    return c.sat === 0 ? 'hsl(0 0% ' + (light + 8) + '%)' : 'hsl(' + (c.hue + (Math.abs(h) % 16) - 8) + ' ' + c.sat + '% ' + light + '%)';
  }

  function isMatch(n) { return pattern !== null && (pattern.test(n.name) || pattern.test(n.file)); }
  // Share of the profile under a matching frame (a match below a match counts once).
  function matchedTotal(n) {
    if (isMatch(n)) return n.total[type];
    return n.children.reduce((sum, c) => sum + matchedTotal(c), 0);
  }

  function draw() {
    const width = svg.clientWidth || 1200;
    const chain = [];
    for (let a = focus.parent; a; a = a.parent) chain.unshift(a);
    let maxDepth = 0;
    (function depth(n) { if (n.depth > maxDepth) maxDepth = n.depth; n.children.forEach(depth); })(focus);
    svg.setAttribute('height', String((maxDepth + 1) * ROW + 4));
    svg.textContent = '';
    const frag = document.createDocumentFragment();
    let frames = 0;
    const unit = focus.total[type] ? width / focus.total[type] : 0;
    function box(n, x, w, cls) {
      const g = document.createElementNS(NS, 'g');
      const r = document.createElementNS(NS, 'rect');
      r.setAttribute('x', x.toFixed(2));
      r.setAttribute('y', String(n.depth * ROW));
      r.setAttribute('width', Math.max(w, 0.5).toFixed(2));
      r.setAttribute('height', String(ROW - 1));
      r.setAttribute('fill', colour(n));
      r.setAttribute('class', 'frame' + (cls ? ' ' + cls : '') + (isMatch(n) ? ' match' : ''));
      r.__node = n;
      g.appendChild(r);
      if (w > 28) {
        const t = document.createElementNS(NS, 'text');
        t.setAttribute('x', (x + 3).toFixed(2));
        t.setAttribute('y', String(n.depth * ROW + 13));
        const chars = Math.floor((w - 6) / 6.6);
        t.textContent = n.name.length > chars ? n.name.slice(0, Math.max(chars - 1, 1)) + '…' : n.name;
        g.appendChild(t);
      }
      frag.appendChild(g);
      frames++;
    }
    chain.forEach((a) => box(a, 0, width, 'ancestor'));
    (function layout(n, x) {
      const w = n.total[type] * unit;
      if (w < 0.3) return;
      box(n, x, w, '');
      let cx = x;
      n.children.forEach((c) => { layout(c, cx); cx += c.total[type] * unit; });
    })(focus, 0);
    svg.appendChild(frag);
    svg.setAttribute('data-frames', String(frames));
    matched.textContent = pattern ? 'matched: ' + pct(matchedTotal(root)) : '';
    drawTop();
  }

  function drawTop() {
    const acc = new Map();
    (function visit(n, stack) {
      const key = n.name + '\\u0000' + n.file;
      let e = acc.get(key);
      if (!e) { e = { n, self: 0, total: 0 }; acc.set(key, e); }
      e.self += n.self[type];
      if (!stack.has(key)) e.total += n.total[type];
      const next = new Set(stack).add(key);
      n.children.forEach((c) => visit(c, next));
    })(root, new Set());
    acc.delete('all\\u0000');
    const rows = [...acc.values()].sort((a, b) => b.self - a.self).slice(0, 25);
    const table = document.getElementById('top');
    table.textContent = '';
    const cap = table.createCaption();
    cap.textContent = 'Top functions by self ' + DATA.sampleTypes[type].type + ' (total ' + fmt(root.total[type]) + ')';
    const head = table.insertRow();
    ['self', 'self %', 'total', 'total %', 'function — file:line'].forEach((h) => {
      const th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    });
    rows.forEach((e) => {
      const tr = table.insertRow();
      [fmt(e.self), pct(e.self), fmt(e.total), pct(e.total), e.n.name + (e.n.file ? ' — ' + e.n.file + (e.n.line ? ':' + e.n.line : '') : '')]
        .forEach((v) => { tr.insertCell().textContent = v; });
    });
  }

  svg.addEventListener('click', (ev) => {
    const n = ev.target.__node;
    if (!n) return;
    focus = n === focus && n.parent ? n.parent : n;
    draw();
  });
  svg.addEventListener('mousemove', (ev) => {
    const n = ev.target.__node;
    if (!n) { tip.style.display = 'none'; return; }
    tip.textContent = n.name + (n.file ? '\\n' + n.file + (n.line ? ':' + n.line : '') : '') +
      '\\ntotal ' + fmt(n.total[type]) + ' (' + pct(n.total[type]) + ')' +
      '\\nself  ' + fmt(n.self[type]) + ' (' + pct(n.self[type]) + ')';
    tip.style.display = 'block';
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + 'px';
    tip.style.top = (ev.clientY + 14) + 'px';
  });
  svg.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  document.getElementById('reset').addEventListener('click', () => { focus = root; draw(); });
  typeSel.addEventListener('change', () => { type = Number(typeSel.value); draw(); });
  search.addEventListener('input', () => {
    try { pattern = search.value ? new RegExp(search.value, 'i') : null; } catch { pattern = null; }
    draw();
  });
  let resizeTimer = 0;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 100); });
  draw();
  document.body.setAttribute('data-rendered', 'true');
})();
</script>
</body>
</html>
`;
}
