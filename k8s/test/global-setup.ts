// Runs once before the k8s tests: installs the pinned tools (a cold install
// builds them; afterwards this is instant) and makes sure dist/ is current,
// then hands the tool paths to the tests through vitest's provide/inject.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { installToolchain, REPO, type Toolchain } from '../tools/toolchain.js';

declare module 'vitest' {
  export interface ProvidedContext {
    toolchain: Toolchain;
  }
}

export default function setup(project: TestProject): void {
  execFileSync(process.execPath, [join(REPO, 'scripts', 'ensure-build.mjs')], { stdio: 'inherit' });
  project.provide('toolchain', installToolchain());
}
