// The production command (scripts/lib/production-command.ts) is written out in
// two places a harness cannot import: the image's CMD and `npm start`. These
// hold them to the list, and check that the flags do what they are there for.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_ENTRY, PRODUCTION_NODE_FLAGS, productionArgs } from '../../scripts/lib/production-command.js';
import { ROOT } from './helpers/service-process.js';

describe('the production command', () => {
  it('is the Dockerfile CMD', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const cmds = [...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].map((m) => JSON.parse(m[1] as string) as string[]);
    expect(cmds).toEqual([['node', ...PRODUCTION_NODE_FLAGS, PRODUCTION_ENTRY]]);
  });

  it('is what `npm start` runs after the build check', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node scripts/ensure-build.mjs && node ${productionArgs().join(' ')}`);
  });

  it('fixes the young generation at 16 MB semi-spaces, whatever V8 would pick for the memory it sees', () => {
    // Short-lived objects make V8 grow the new space to its maximum: two semi-spaces.
    const churn =
      'const v8 = require("node:v8"); let a = []; ' +
      'for (let i = 0; i < 5e6; i++) { a.push({ i }); if (a.length > 2e5) a = []; } ' +
      'console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size)';
    const newSpace = Number(
      execFileSync(process.execPath, [...PRODUCTION_NODE_FLAGS, '-e', churn], { encoding: 'utf8' }),
    );
    expect(newSpace).toBe(2 * 16 * 1024 * 1024);
  });
});
