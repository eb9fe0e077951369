// The production command (scripts/lib/production-command.ts) is written out in
// two places a harness cannot import: the image's CMD and `npm start`. These
// hold them to the list, and check that the flags do what they are there for.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PRODUCTION_ENTRY,
  PRODUCTION_NODE_FLAGS,
  productionArgs,
  YOUNG_GENERATION_PROBE,
} from '../../scripts/lib/production-command.js';
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
    const out = execFileSync(process.execPath, [...PRODUCTION_NODE_FLAGS, '-e', YOUNG_GENERATION_PROBE], {
      encoding: 'utf8',
    });
    expect((JSON.parse(out) as { newSpace: number }).newSpace).toBe(2 * 16 * 1024 * 1024);
  });
});
