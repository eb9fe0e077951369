/// <reference lib="dom" />
// Opens a report in Debian's headless Chromium (playwright-core, no browser
// download) and reports what a reader would see: which requests the page
// made (a self-contained report makes none), which charts rendered and with
// how many drawn points, and a screenshot with how much of it is not blank.
// Used by the tests and by `npm run load:screenshot`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium phones home at start-up,
// which a closed network refuses (and a test must not depend on).
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface RenderCheck {
  /** Every URL the page requested other than the report file itself. */
  externalRequests: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations: string[];
  charts: Array<{ id: string; series: number; points: number; bars: number; width: number; height: number }>;
  verdict: string | null;
  png: Buffer;
  /** Distinct colours in the screenshot (after 4-bit quantization) and the share of pixels that are not white. */
  distinctColors: number;
  nonWhiteShare: number;
}

/** width: viewport width; height: clip the screenshot to this many pixels from the top (default: the full page). */
export async function renderInBrowser(
  htmlPath: string,
  opts: { width?: number; height?: number } = {},
): Promise<RenderCheck> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'periscope-chromium-'));
  // launchPersistentContext gives the fresh --user-data-dir the flags ask for.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: opts.width ?? 1060, height: opts.height ?? 900 },
  });
  try {
    const page = await context.newPage();
    const fileUrl = pathToFileURL(htmlPath).href;
    const externalRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url() !== fileUrl && !req.url().startsWith('data:')) externalRequests.push(req.url());
    });
    const cspViolations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    await page.goto(fileUrl, { waitUntil: 'load' });
    const info = await page.evaluate(() => {
      const charts = [...document.querySelectorAll('svg.chart')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const paths = [...svg.querySelectorAll('path.series')];
        return {
          id: svg.getAttribute('data-chart') ?? '',
          series: paths.length,
          points: paths.reduce((n, p) => n + Number(p.getAttribute('data-points') ?? 0), 0),
          bars: svg.querySelectorAll('rect.bar').length,
          width: Math.round(box.width),
          height: Math.round(box.height),
        };
      });
      return { charts, verdict: document.querySelector('[data-verdict]')?.getAttribute('data-verdict') ?? null };
    });
    const png = await page.screenshot({ fullPage: opts.height === undefined, type: 'png' });
    // Decode the screenshot in the browser itself (no PNG library needed) and count colours.
    const pixels = await page.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, img.width, img.height);
      const colours = new Set<number>();
      let nonWhite = 0;
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i] as number;
        const g = data[i + 1] as number;
        const b = data[i + 2] as number;
        colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
        if (r < 245 || g < 245 || b < 245) nonWhite++;
      }
      return { distinct: colours.size, nonWhiteShare: nonWhite / (data.length / 4) };
    }, png.toString('base64'));
    return {
      externalRequests,
      cspViolations,
      charts: info.charts,
      verdict: info.verdict,
      png,
      distinctColors: pixels.distinct,
      nonWhiteShare: pixels.nonWhiteShare,
    };
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
