#!/usr/bin/env node
// Checks that the real components the infra tests need are installed, and
// says exactly how to install what is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const toolsBin = join(process.env.PERISCOPE_TOOLS_DIR ?? join(homedir(), '.cache', 'periscope', 'tools'), 'bin');
const wanted = process.argv.slice(2);
const checks = {
  prometheus: () => {
    execFileSync(process.env.PROMETHEUS_BIN ?? 'prometheus', ['--version'], { stdio: 'ignore' });
  },
  promtool: () => {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
  },
  redis: () => {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  },
  jaeger: () => {
    if (!existsSync(process.env.JAEGER_BIN ?? join(toolsBin, 'jaeger'))) throw new Error('not built');
  },
};
const install = {
  prometheus: 'bash infra/test/install-tools.sh prometheus   (Debian package prometheus)',
  promtool: 'bash infra/test/install-tools.sh prometheus   (Debian package prometheus)',
  redis: 'bash infra/test/install-tools.sh redis   (Debian package redis-server)',
  jaeger: 'bash infra/tools/install-jaeger.sh   (builds Jaeger v2 from the Go module proxy; minutes the first time)',
};
const missing = [];
for (const tool of wanted) {
  try {
    checks[tool]();
  } catch {
    missing.push(tool);
  }
}
if (missing.length) {
  console.error('The infra tests need tools that are not installed:');
  for (const t of missing) console.error(`  ${t.padEnd(11)} install with: ${install[t]}`);
  console.error('Or install everything at once: bash infra/test/install-tools.sh');
  process.exit(2);
}
