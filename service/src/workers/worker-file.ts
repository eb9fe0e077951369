// Where a worker thread's module is. Worker threads load plain JavaScript:
// built code (dist/, dist/bundle/) finds its module next to it; code running
// from the TypeScript sources (tests, `npm run dev`) uses the same module's
// twin in dist/ (service/src/x/y.js → dist/x/y.js), which `npm test` and
// `npm run dev` build first.
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCES = `${sep}service${sep}src${sep}`;
const BUILT = `${sep}dist${sep}`;

/** The first of `relative` (resolved against `from`, a module URL) that exists, as built or from dist/. */
export function workerFile(relative: string | string[], from: string): string {
  const looked: string[] = [];
  for (const r of Array.isArray(relative) ? relative : [relative]) {
    const local = fileURLToPath(new URL(r, from));
    const at = local.lastIndexOf(SOURCES);
    const built = at === -1 ? [] : [local.slice(0, at) + BUILT + local.slice(at + SOURCES.length)];
    for (const file of [local, ...built]) {
      if (existsSync(file)) return file;
      looked.push(file);
    }
  }
  throw new Error(`worker module not found (looked at ${looked.join(', ')}); run \`npm run build\``);
}
