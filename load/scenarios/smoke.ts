// smoke: a few seconds of light load on the hello route, for CI. It proves
// the service answers under concurrency and the whole pipeline (load,
// scraping, report, SLO verdict) works; it measures nothing worth quoting.
import { phase, type Scenario, STEP_SLACK_S } from '../lib/scenario.js';

const WARMUP_S = 1;

export const smoke: Scenario = {
  name: 'smoke',
  description: 'A few seconds of light load (10 connections) on GET /: the CI check that everything works.',
  defaults: { requests: [{ method: 'GET', path: '/' }], connections: 10, durationS: 4 },
  *plan(o) {
    yield {
      name: 'smoke',
      phases: [
        phase(o, { name: 'smoke', connections: o.connections, durationS: o.durationS + WARMUP_S, warmupS: WARMUP_S }),
      ],
    };
  },
  maxDurationS: (o) => o.durationS + WARMUP_S + STEP_SLACK_S,
};
