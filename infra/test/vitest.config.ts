// Tests of the observability artefacts (dashboards, rules, the compose stack)
// against real components: Prometheus, compose-go, the collector. Separate
// from the service's suite (vitest.config.ts) because they need tools from
// infra/test/install-tools.sh and run as their own CI steps.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['infra/test/**/*.test.ts', 'dashboards/**/*.test.ts'],
    // Real processes on a shared 2-core machine: generous, never a measurement.
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
