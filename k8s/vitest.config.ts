// `npm run test:k8s`: the chart, its renders against the Kubernetes and
// prometheus-operator schemas, the plain manifests, and the chart's contract
// with the real service. The global setup installs the pinned tools (built on
// first use, cached in ~/.cache/periscope/tools) and builds dist/.
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: join(import.meta.dirname, '..'),
    include: ['k8s/test/**/*.test.ts'],
    globalSetup: ['k8s/test/global-setup.ts'],
    // helm/kubeconform runs and a real service process per file.
    testTimeout: 60_000,
    // A cold tool install builds helm (~3 min) and kubeconform (~1.5 min).
    hookTimeout: 900_000,
    pool: 'forks',
  },
});
