// A PNG of a flamegraph HTML as headless Chromium draws it (the picture in
// docs/images/flamegraph.png comes from here):
//
//   npx tsx load/profiling/screenshot.ts profiles/remote-…/flamegraph.html docs/images/flamegraph.png [--width 1400 --height 900]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderInChromium } from '../lib/chromium.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { width: { type: 'string', default: '1400' }, height: { type: 'string', default: '900' } },
});
const [html, png] = positionals;
if (!html || !png) {
  console.error('usage: screenshot.ts FLAMEGRAPH.html OUT.png [--width W --height H]');
  process.exit(2);
}
const page = await renderInChromium(html, () => document.title, {
  width: Number(values.width),
  height: Number(values.height),
  settleMs: 1000,
});
if (page.pageErrors.length) throw new Error(`the page reported errors: ${page.pageErrors.join('; ')}`);
writeFileSync(png, page.png);
console.log(
  `${png}: "${page.dom}", ${page.distinctColors} colours, ${(page.nonBackgroundShare * 100).toFixed(0)}% non-background`,
);
