// profile:flame (0x) and the clinic.js commands, end to end, on this Node and
// on Node 24: build, run the service under the profiler, drive the smoke
// scenario, stop, and open the report in headless Chromium — it must draw
// something, and show this service.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderInChromium } from '../../lib/chromium.js';
import { REPO_ROOT } from '../lib/paths.js';
import { nodeVersion, printedPath, runCli, serviceNodes } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'periscope-profilers-'));
// 0x keeps V8's tick logs (tens of MB a run); KEEP_PROFILING_OUTPUT=1 keeps everything for a look.
afterAll(() => {
  if (!process.env.KEEP_PROFILING_OUTPUT) rmSync(work, { recursive: true, force: true });
});
/** A runtime config (CONFIG_FILE) that lifts the per-client rate limit, so the load reaches the worker pool. */
function writeConfig(): string {
  const file = join(work, 'no-rate-limit.json');
  writeFileSync(file, JSON.stringify({ rateLimit: { max: 1_000_000 } }));
  return file;
}
// clinic's pages load a web font from clinicjs.org (cosmetic; refused offline). Nothing else may be fetched.
const CLINIC_FONT = 'https://clinicjs.org/assets/css/fonts.css';

describe.each(serviceNodes().map((bin) => ({ bin, version: nodeVersion(bin) })))(
  'service on Node $version',
  ({ bin, version }) => {
    /** Runs one profiling command on the smoke scenario and returns the report it printed. */
    async function profile(
      script: string,
      args: string[],
      more: { tag?: string; loadArgs?: string[] } = {},
    ): Promise<{ html: string; dir: string; ok: number }> {
      const dir = join(work, `${version}-${args[0] ?? script}${more.tag ? `-${more.tag}` : ''}`);
      const r = await runCli(script, [
        ...args,
        'smoke',
        '--duration',
        '3',
        '--node',
        bin,
        '--out',
        dir,
        ...(more.loadArgs ?? []),
      ]);
      if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${r.code}\n${r.out}\n${r.err}`);
      const html = printedPath(r.out);
      expect(html.startsWith(dir)).toBe(true);
      // The load ran against the profiled service and its report was kept beside the profile.
      const load = JSON.parse(readFileSync(join(dir, 'load', 'result.json'), 'utf8')) as {
        phases: Array<{ responses: number; failures: number; status: Record<string, number> }>;
      };
      const ok = load.phases[0]?.status['200'] ?? 0;
      expect(ok).toBeGreaterThan(100);
      if (!more.loadArgs) expect(load.phases[0]?.failures).toBe(0);
      return { html, dir, ok };
    }

    /**
     * Load on POST /api/work, whose piscina pool starts worker threads on demand:
     * clinic's samplers run in those threads too (see preload/clinic-worker-threads.cjs).
     */
    const WORKER_LOAD = [
      '--route',
      '/api/work',
      '--method',
      'POST',
      '--body',
      '{"text":"profile me","rounds":20}',
      // The route's rate limit (100/min per client by default) would answer most requests 429.
      '--service-env',
      `CONFIG_FILE=${writeConfig()}`,
    ];

    it('profile:flame writes a 0x flamegraph of the service that renders', async () => {
      const { html } = await profile('flame.ts', []);
      // 0x names frames by compiled file: the service's own code is in it.
      expect(readFileSync(html, 'utf8')).toContain(`${REPO_ROOT}dist/telemetry/http-server.js`);
      const page = await renderInChromium(
        html,
        () => {
          const canvas = document.querySelector('canvas') as HTMLCanvasElement | null;
          let painted = 0;
          if (canvas) {
            const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
              0,
              0,
              canvas.width,
              canvas.height,
            );
            for (let i = 0; i < data.length; i += 4)
              if ((data[i + 3] as number) > 0 && (data[i] as number) < 250) painted++;
          }
          return {
            canvas: canvas ? { width: canvas.width, height: canvas.height } : null,
            painted,
            search: document.querySelector('input[type="search"], input[placeholder*="search" i]') !== null,
            buttons: [...document.querySelectorAll('button')].map((b) => b.textContent?.trim()),
          };
        },
        { waitFor: 'canvas', settleMs: 1500 },
      );
      expect(page.pageErrors).toEqual([]);
      expect(page.externalRequests).toEqual([]);
      expect(page.dom.canvas?.width).toBeGreaterThan(500);
      expect(page.dom.buttons).toEqual(expect.arrayContaining(['Tiers', 'Merge', 'Optimized', 'Unoptimized']));
      expect(page.dom.search).toBe(true);
      // Frames are drawn on the canvas, and the screenshot is not blank.
      expect(page.dom.painted).toBeGreaterThan(5000);
      expect(page.distinctColors).toBeGreaterThan(8);
      expect(page.nonBackgroundShare).toBeGreaterThan(0.03);
    });

    it('profile:doctor writes a clinic doctor report with its charts', async () => {
      const { html } = await profile('clinic.ts', ['doctor']);
      const page = await renderInChromium(html, () => ({
        title: document.title,
        charts: [...document.querySelectorAll('svg')].filter((s) => s.querySelectorAll('path').length > 1).length,
        text: document.body.textContent ?? '',
      }));
      expect(page.pageErrors).toEqual([]);
      expect(page.externalRequests.filter((u) => u !== CLINIC_FONT)).toEqual([]);
      expect(page.dom.text).toMatch(/CPU Usage/);
      expect(page.dom.text).toMatch(/Event Loop Delay/);
      expect(page.dom.charts).toBeGreaterThanOrEqual(4);
      expect(page.nonBackgroundShare).toBeGreaterThan(0.1);
    });

    it('profile:heap writes a clinic heap-profiler flamegraph', async () => {
      const { html } = await profile('clinic.ts', ['heapprofiler']);
      const page = await renderInChromium(
        html,
        () => ({
          canvas: document.querySelectorAll('canvas').length,
          text: document.body.textContent ?? '',
        }),
        { settleMs: 1500 },
      );
      expect(page.pageErrors).toEqual([]);
      expect(page.externalRequests.filter((u) => u !== CLINIC_FONT)).toEqual([]);
      expect(page.dom.text).toMatch(/Heap Profiler/);
      expect(page.dom.text).toMatch(/biggest allocation/);
      expect(page.dom.canvas).toBeGreaterThan(0);
      expect(page.distinctColors).toBeGreaterThan(20);
      expect(page.nonBackgroundShare).toBeGreaterThan(0.1);
    });

    it('profile:doctor and profile:heap work while worker threads run (POST /api/work)', async () => {
      const doctor = await profile('clinic.ts', ['doctor'], { tag: 'workers', loadArgs: WORKER_LOAD });
      // The workers' samplers wrote to their own files, not over the main thread's.
      expect(readdirSync(doctor.dir).some((f) => /-worker-threads\.clinic-doctor$/.test(f))).toBe(true);
      const page = await renderInChromium(doctor.html, () => ({
        charts: [...document.querySelectorAll('svg')].filter((s) => s.querySelectorAll('path').length > 1).length,
      }));
      expect(page.pageErrors).toEqual([]);
      expect(page.dom.charts).toBeGreaterThanOrEqual(4);

      const heap = await profile('clinic.ts', ['heapprofiler'], { tag: 'workers', loadArgs: WORKER_LOAD });
      expect(readFileSync(heap.html, 'utf8').length).toBeGreaterThan(100_000);
    });

    it('profile:bubbleprof writes a clinic bubbleprof report', async () => {
      const { html, dir } = await profile('clinic.ts', ['bubbleprof']);
      expect(existsSync(dir)).toBe(true);
      const page = await renderInChromium(
        html,
        () => ({
          bubbles: document.querySelectorAll('svg circle, svg path').length,
          text: document.body.textContent ?? '',
        }),
        { settleMs: 1500 },
      );
      expect(page.pageErrors).toEqual([]);
      expect(page.externalRequests.filter((u) => u !== CLINIC_FONT)).toEqual([]);
      expect(page.dom.text).toMatch(/Bubbleprof/);
      expect(page.dom.bubbles).toBeGreaterThan(3);
      expect(page.nonBackgroundShare).toBeGreaterThan(0.05);
    });
  },
);

describe('usage errors', () => {
  it('rejects an unknown scenario and a --target (that is profile:remote)', async () => {
    let r = await runCli('flame.ts', ['nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown scenario "nope"; one of: .*steady/);
    r = await runCli('clinic.ts', ['doctor', 'smoke', '--target', 'http://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/use npm run profile:remote/);
  });
});
