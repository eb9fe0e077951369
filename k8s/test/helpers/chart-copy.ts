// Modified copies of the chart, for what only a changed chart can show.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { CHART } from '../../tools/toolchain.js';

const copies: string[] = [];
afterAll(() => {
  for (const c of copies.splice(0)) rmSync(c, { recursive: true, force: true });
});

/** A copy of the chart with its symlinked folders resolved; removed after the test file. */
export function chartCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'periscope-chart-'));
  copies.push(dir);
  cpSync(CHART, dir, { recursive: true, dereference: true });
  return dir;
}
