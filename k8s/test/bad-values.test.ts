// Every file in k8s/test/bad-values/ must be refused by `helm template`, with
// the error its `# expect:` line names: by values.schema.json, or by the
// chart's cross-field checks (templates/_helpers.tpl, periscope.validate).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from './helpers/render.js';

const dir = join(import.meta.dirname, 'bad-values');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('bad values are rejected with a clear message', () => {
  it('has cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)('%s', (file) => {
    const path = join(dir, file);
    const expected = /^# expect: (.+)$/m.exec(readFileSync(path, 'utf8'))?.[1];
    expect(expected, `${file} needs an "# expect: <message>" line`).toBeTruthy();
    expect(() => render({ valuesFiles: [path] })).toThrow(expected);
  });
});
