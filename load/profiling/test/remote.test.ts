// profile:remote end to end: a live CPU profile from the real service under
// load, rendered to a flamegraph HTML that opens in headless Chromium and
// shows the service's frames; and the errors a user meets (wrong token,
// profiling off, nothing listening).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/free-port.js';
import { renderInChromium } from '../../lib/chromium.js';
import { type ServiceHandle, startService } from '../../lib/service.js';
import { buildCallTree, decodePprof, type FrameNode } from '../lib/pprof-tree.js';
import { printedPath, runCli } from './helpers.js';

const TOKEN = 'remote-test-token-0123456789';
const work = mkdtempSync(join(tmpdir(), 'periscope-remote-'));
// 0x keeps V8's tick logs (tens of MB a run); KEEP_PROFILING_OUTPUT=1 keeps everything for a look.
afterAll(() => {
  if (!process.env.KEEP_PROFILING_OUTPUT) rmSync(work, { recursive: true, force: true });
});

let svc: ServiceHandle;
beforeAll(async () => {
  svc = await startService({ env: { PROFILING_ENABLED: 'true', PROFILING_TOKEN: TOKEN, LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await svc?.stop();
});

describe('profile:remote against a live service under load', () => {
  let html: string;
  let pprofFile: string;

  beforeAll(async () => {
    const load = autocannon({ url: `${svc.url}/`, connections: 10, duration: 6 });
    // The token comes from the environment, as the runbook recommends (not a flag).
    const r = await runCli('remote.ts', ['--url', svc.adminUrl, '--seconds', '3', '--out', join(work, 'cpu')], {
      PROFILING_TOKEN: TOKEN,
    });
    const loaded = await load;
    expect(loaded.non2xx).toBe(0);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    html = printedPath(r.out);
    pprofFile = join(work, 'cpu', 'cpu.pb.gz');
  });

  it('keeps the pprof file, a CPU profile of the service', () => {
    expect(existsSync(pprofFile)).toBe(true);
    const tree = buildCallTree(decodePprof(readFileSync(pprofFile)));
    expect(tree.sampleTypes.map((t) => t.type)).toEqual(['sample', 'wall']);
    expect(tree.durationMs).toBeGreaterThan(2500);
    expect(tree.root.total[0]).toBeGreaterThan(100);
    // The service's own frames name its TypeScript sources (source-mapped from dist/).
    const files = new Set<string>();
    const walk = (n: FrameNode) => {
      files.add(n.file);
      for (const c of n.children) walk(c);
    };
    walk(tree.root);
    expect(
      [...files].some((f) => /service\/src\/\S+\.ts$/.test(f)),
      [...files].join('\n'),
    ).toBe(true);
  });

  it('renders a flamegraph that opens offline in Chromium and shows the service at work', async () => {
    expect(html).toBe(join(work, 'cpu', 'flamegraph.html'));
    const page = await renderInChromium(
      html,
      () => {
        const rects = [...document.querySelectorAll('#flame rect.frame')];
        const search = document.querySelector('#search') as HTMLInputElement;
        search.value = 'routeHandler';
        search.dispatchEvent(new Event('input'));
        return {
          rendered: document.body.dataset.rendered,
          frames: rects.length,
          wide: rects.filter((r) => Number(r.getAttribute('width')) > 100).length,
          labels: [...document.querySelectorAll('#flame text')].map((t) => t.textContent ?? ''),
          matched: document.querySelector('#matched')?.textContent ?? '',
          highlighted: document.querySelectorAll('#flame rect.match').length,
          topRows: document.querySelectorAll('#top tr').length,
          topText: document.querySelector('#top')?.textContent ?? '',
        };
      },
      { waitFor: 'body[data-rendered]' },
    );
    expect(page.pageErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    expect(page.dom.rendered).toBe('true');
    expect(page.dom.frames).toBeGreaterThan(50);
    expect(page.dom.wide).toBeGreaterThan(5);
    expect(page.dom.labels).toContain('all');
    // Fastify's request path is in the graph, and search finds it.
    expect(page.dom.highlighted).toBeGreaterThan(0);
    expect(page.dom.matched).toMatch(/^matched: (?!0\.00%)[\d.]+%$/);
    // The top list is filled (which functions make it depends on the run; the
    // source-mapped frames are checked on the pprof file above).
    expect(page.dom.topRows).toBeGreaterThan(10);
    // A drawn graph, not a blank page: many colours, much non-background.
    expect(page.distinctColors).toBeGreaterThan(20);
    expect(page.nonBackgroundShare).toBeGreaterThan(0.15);
  });

  it('takes a heap profile too', async () => {
    const r = await runCli(
      'remote.ts',
      ['--url', svc.adminUrl, '--kind', 'heap', '--seconds', '1', '--out', join(work, 'heap')],
      { PROFILING_TOKEN: TOKEN },
    );
    expect(r.code).toBe(0);
    const tree = buildCallTree(decodePprof(readFileSync(join(work, 'heap', 'heap.pb.gz'))));
    expect(tree.sampleTypes.map((t) => t.type)).toEqual(['inuse_objects', 'inuse_space']);
    expect(readFileSync(printedPath(r.out), 'utf8')).toContain('Heap (in use) profile');
  });
});

describe('profile:remote errors', () => {
  it('explains a wrong token', async () => {
    const r = await runCli('remote.ts', ['--url', svc.adminUrl, '--seconds', '1'], {
      PROFILING_TOKEN: 'wrong-token-0123456789',
    });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/answered 401: .*\(wrong or missing token\)/);
  });

  it('refuses to run without a token', async () => {
    const r = await runCli('remote.ts', ['--url', svc.adminUrl], { PROFILING_TOKEN: '' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no token: set PROFILING_TOKEN/);
  });

  it('rejects out-of-range seconds before calling anyone', async () => {
    const r = await runCli('remote.ts', ['--url', svc.adminUrl, '--seconds', '61'], { PROFILING_TOKEN: TOKEN });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--seconds must be a whole number from 1 to 60/);
  });

  it('says when nothing listens (a port-forward not running)', async () => {
    const r = await runCli('remote.ts', ['--url', `http://127.0.0.1:${await freePort()}`, '--seconds', '1'], {
      PROFILING_TOKEN: TOKEN,
    });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot reach .*ECONNREFUSED.*port-forward/);
  });

  it('says when profiling is off on the service', async () => {
    const off = await startService({ env: { LOG_LEVEL: 'warn' } });
    try {
      const r = await runCli('remote.ts', ['--url', off.adminUrl, '--seconds', '1'], { PROFILING_TOKEN: TOKEN });
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/answered 404: .*PROFILING_ENABLED=true enables it/);
    } finally {
      await off.stop();
    }
  });
});
