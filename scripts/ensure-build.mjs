#!/usr/bin/env node
// Builds dist/ (tsc, then the production bundle) when it is missing or older than any source file, so `npm start`
// always runs what is in service/src without paying for a build it doesn't need.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entry = join(root, 'dist', 'main.js');
const bundle = join(root, 'dist', 'bundle', 'periscope.js');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const sources = [
  join(root, 'service', 'src'),
  join(root, 'tsconfig.json'),
  join(root, 'tsconfig.build.json'),
  join(root, 'scripts', 'bundle.mjs'),
];
const srcTime = Math.max(...sources.map((p) => (statSync(p).isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)));
const builtTime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
if (Math.min(builtTime(entry), builtTime(bundle)) >= srcTime) process.exit(0);

const tsc = join(root, 'node_modules', '.bin', 'tsc');
if (!existsSync(tsc)) {
  if (existsSync(entry) && existsSync(bundle)) process.exit(0); // production install without TypeScript: run what was built
  console.error('dist/ is missing and TypeScript is not installed: run `npm install` first');
  process.exit(1);
}
process.stderr.write('building dist/ ...\n');
// The build is defined once, in package.json ("build": tsc, then the bundle).
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
