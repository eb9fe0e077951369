/// <reference lib="dom" />
// Opens a load report in headless Chromium (load/lib/chromium.ts) and reports
// what a reader would see: which charts rendered and with how many drawn
// points, the SLO verdict, any request the page made (a self-contained report
// makes none), and a screenshot with how much of it is not blank. Used by the
// tests and by `npm run load:screenshot`.
import { renderInChromium } from '../lib/chromium.js';

export { CHROMIUM } from '../lib/chromium.js';

export interface RenderCheck {
  /** Every URL the page requested other than the report file itself. */
  externalRequests: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations: string[];
  charts: Array<{ id: string; series: number; points: number; bars: number; width: number; height: number }>;
  verdict: string | null;
  png: Buffer;
  /** Distinct colours in the screenshot (after 4-bit quantization) and the share of pixels that are not background. */
  distinctColors: number;
  nonWhiteShare: number;
}

/** width: viewport width; height: clip the screenshot to this many pixels from the top (default: the full page). */
export async function renderInBrowser(
  htmlPath: string,
  opts: { width?: number; height?: number } = {},
): Promise<RenderCheck> {
  const r = await renderInChromium(
    htmlPath,
    () => {
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
    },
    { width: opts.width ?? 1060, height: opts.height ?? 900, fullPage: opts.height === undefined },
  );
  return {
    externalRequests: r.externalRequests,
    cspViolations: r.cspViolations,
    charts: r.dom.charts,
    verdict: r.dom.verdict,
    png: r.png,
    distinctColors: r.distinctColors,
    nonWhiteShare: r.nonBackgroundShare,
  };
}
