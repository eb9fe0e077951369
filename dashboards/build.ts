// Generates dashboards/generated/*.json from the TypeScript dashboards.
//
//   tsx dashboards/build.ts           write the files (npm run dashboards:build)
//   tsx dashboards/build.ts --check   fail if a committed file differs from what
//                                     the code generates (drift), is missing, or
//                                     is left over from a removed dashboard
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, render } from './index.js';

const OUT = fileURLToPath(new URL('./generated/', import.meta.url));

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const expected = new Map(DASHBOARDS.map((d) => [d.file, render(d.build())]));
  const present = (await readdir(OUT).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  const problems: string[] = [];

  for (const [file, json] of expected) {
    const current = await readFile(OUT + file, 'utf8').catch(() => undefined);
    if (current === json) continue;
    if (check) problems.push(current === undefined ? `${file}: missing` : `${file}: differs from its source`);
    else {
      await writeFile(OUT + file, json);
      console.log(`wrote dashboards/generated/${file}`);
    }
  }
  for (const file of present.filter((f) => !expected.has(f))) {
    if (check) problems.push(`${file}: no dashboard generates it`);
    else {
      await rm(OUT + file);
      console.log(`removed dashboards/generated/${file} (no dashboard generates it)`);
    }
  }

  if (problems.length) {
    console.error(`dashboards/generated is out of date:\n  ${problems.join('\n  ')}`);
    console.error('run `npm run dashboards:build` and commit the result');
    process.exit(1);
  }
  if (check) console.log(`dashboards/generated: ${expected.size} dashboards match their source`);
}

await main();
