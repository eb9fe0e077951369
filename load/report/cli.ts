// npm run load:report -- <result.json> [--out report.html] [--screenshot file.png [--width px] [--height px]]
// Re-renders a report from a saved result (after changing the report code, or
// for an old run) and, optionally, screenshots it in headless Chromium.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LoadResult, RESULT_SCHEMA } from '../lib/types.js';
import { renderInBrowser } from './browser.js';
import { renderReport } from './render.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    screenshot: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
  },
});
const input = positionals[0];
if (!input || positionals.length > 1) {
  console.error(
    'usage: npm run load:report -- <result.json> [--out report.html] [--screenshot file.png [--width px] [--height px]]',
  );
  process.exit(2);
}
const result = JSON.parse(readFileSync(input, 'utf8')) as LoadResult;
if (result.schema !== RESULT_SCHEMA) {
  console.error(`${input}: not a load result (schema ${JSON.stringify(result.schema)}, expected ${RESULT_SCHEMA})`);
  process.exit(2);
}
const html = values.out ?? join(dirname(input), 'report.html');
writeFileSync(html, renderReport(result));
console.log(`report: ${html}`);
if (values.screenshot) {
  const r = await renderInBrowser(html, {
    width: values.width ? Number(values.width) : 1060,
    ...(values.height ? { height: Number(values.height) } : {}),
  });
  writeFileSync(values.screenshot, r.png);
  console.log(
    `screenshot: ${values.screenshot} (${r.charts.length} charts, ${r.distinctColors} colours, ${(r.nonWhiteShare * 100).toFixed(1)}% inked)`,
  );
}
