// steady: a fixed load held for a while — 100 keep-alive connections, each
// sending its next request as soon as the last one is answered (a closed
// loop, autocannon's model). On a CPU-bound route like GET / that keeps the
// service's one core busy, so the figure is the sustained throughput at 100
// concurrent clients and the latency they see there. With --rate the load is
// capped instead (autocannon paces each connection per second).
import { phase, type Scenario, STEP_SLACK_S } from '../lib/scenario.js';

const WARMUP_S = 5;

export const steady: Scenario = {
  name: 'steady',
  description: 'A fixed load (100 connections on GET /, 30 s after a 5 s warm-up): sustained throughput and latency.',
  defaults: { requests: [{ method: 'GET', path: '/' }], connections: 100, durationS: 30 },
  *plan(o) {
    yield {
      name: 'steady',
      phases: [
        phase(o, { name: 'steady', connections: o.connections, durationS: o.durationS + WARMUP_S, warmupS: WARMUP_S }),
      ],
    };
  },
  maxDurationS: (o) => o.durationS + WARMUP_S + STEP_SLACK_S,
};
