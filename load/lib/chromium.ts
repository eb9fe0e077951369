/// <reference lib="dom" />
// Opens a report in Debian's headless Chromium (playwright-core drives it;
// nothing is downloaded) and returns what a reader would see: a screenshot,
// how much of it is not background and in how many colours, the page's
// errors, any request it made beyond its own file (a self-contained report
// makes none), and whatever `inspect` reads from the DOM. Shared by the load
// report's check (load/report/browser.ts) and the profiling reports' checks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium phones home at start-up,
// which a closed network refuses (and a check must not depend on).
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

export interface Rendered<T> {
  png: Buffer;
  /** Distinct colours in the screenshot after 4-bit quantization. */
  distinctColors: number;
  /** Share of pixels that differ from the most common colour (the background). */
  nonBackgroundShare: number;
  pageErrors: string[];
  externalRequests: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations: string[];
  dom: T;
}

export interface RenderOptions {
  width?: number;
  height?: number;
  /** Wait for this selector before the screenshot. */
  waitFor?: string;
  /** Extra settle time after load, for pages that draw on a timer (0x does). */
  settleMs?: number;
  /** Screenshot the whole page rather than the viewport. */
  fullPage?: boolean;
}

export async function renderInChromium<T>(
  htmlPath: string,
  inspect: () => T,
  opts: RenderOptions = {},
): Promise<Rendered<T>> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'periscope-chromium-'));
  // launchPersistentContext gives the fresh --user-data-dir the flags ask for.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 },
  });
  try {
    const page = await context.newPage();
    const fileUrl = pathToFileURL(htmlPath).href;
    const externalRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url() !== fileUrl && !req.url().startsWith('data:')) externalRequests.push(req.url());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    const cspViolations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    await page.goto(fileUrl, { waitUntil: 'load' });
    if (opts.waitFor) await page.waitForSelector(opts.waitFor, { timeout: 30_000 });
    if (opts.settleMs) await page.waitForTimeout(opts.settleMs);
    const dom = await page.evaluate(inspect);
    const png = await page.screenshot({ type: 'png', fullPage: opts.fullPage ?? false });
    // Decode the screenshot in the browser itself (no PNG library) and count colours.
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
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        const key =
          (((data[i] as number) >> 4) << 8) | (((data[i + 1] as number) >> 4) << 4) | ((data[i + 2] as number) >> 4);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const total = data.length / 4;
      const background = Math.max(...counts.values());
      return { distinct: counts.size, nonBackgroundShare: (total - background) / total };
    }, png.toString('base64'));
    return {
      png,
      distinctColors: pixels.distinct,
      nonBackgroundShare: pixels.nonBackgroundShare,
      pageErrors,
      externalRequests,
      cspViolations,
      dom,
    };
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
