// Keeps hot loops visible to the CPU profilers.
//
// On Node 24 (V8 13) a function whose loop V8 had compiled on-stack with
// Maglev ("Maglev OSR") before a profile window is missing from the profile:
// its samples go to its caller. Measured in both formats: the DevTools
// .cpuprofile always, @datadog/pprof from the second profile of a process on
// (the code map a profile starts from does not list that code). A service's
// hottest loop is exactly such a function. Seen upstream as
// google/pprof-nodejs#283 (names lost since Node 21).
//
// `--no-maglev-osr` sends hot loops straight to TurboFan OSR, which the
// profilers see; the loop's share is back (docs/profiling.md). Node 20 has
// no Maglev and never lost it. The flag changes only how a long-running loop
// is compiled on-stack, not the code a warmed-up function runs, and it is set
// only when profiling is enabled, at start-up, before the code warms up.
import { setFlagsFromString } from 'node:v8';

/** Node 22 is the first line whose V8 has the flag (V8 prints an error for an unknown one). */
const FIRST_NODE_WITH_MAGLEV_OSR = 22;

/** Sets `--no-maglev-osr` where the flag exists. */
export function keepHotLoopsVisible(): void {
  if (Number(process.versions.node.split('.')[0]) >= FIRST_NODE_WITH_MAGLEV_OSR) setFlagsFromString('--no-maglev-osr');
}
