import type { PhaseSpec, RequestSpec } from '../types.js';

/**
 * How a phase's connections are opened: all at once, or — with rampS — in
 * chunks every half second. Thousands of connects in one burst overflow the
 * server's accept queue (listen backlog, 511 by default in Node); the
 * dropped SYNs are retried after 1, 3, 7, 15 s, so the last connections would
 * arrive half a minute late and autocannon's timeout (which includes the
 * connect) would count them as failures.
 */
export function rampChunks(
  spec: Pick<PhaseSpec, 'connections' | 'durationS' | 'rampS'>,
): Array<{ connections: number; offsetS: number }> {
  const ramp = spec.rampS ?? 0;
  if (ramp <= 0 || spec.connections < 2) return [{ connections: spec.connections, offsetS: 0 }];
  const n = Math.min(spec.connections, Math.max(2, Math.round(ramp * 2)));
  const base = Math.floor(spec.connections / n);
  return Array.from({ length: n }, (_, i) => ({
    connections: base + (i < spec.connections % n ? 1 : 0),
    offsetS: Math.round(((ramp * i) / n) * 1000) / 1000,
  }));
}

/**
 * Why c10k opens its connections before it loads them: since libuv 1.45
 * (Node 20+), a listening socket accepts one connection each time the event
 * loop sees it readable (libuv PR #3696, "don't accept() connections in a
 * loop"). With thousands of busy sockets that comes round about once per pass
 * over the ready list — about once a second under saturation — so a busy
 * process takes new connections at a trickle, its accept queue stays full and
 * further SYNs are dropped. Connections opened while the process is nearly
 * idle (each parked on one long request) are accepted at full speed.
 *
 * Returns the autocannon request list for one chunk of connections: while
 * the hold lasts, each request is the hold path with the milliseconds left;
 * afterwards the phase's requests. Each chunk is held for `untilS` from its
 * own start, so the load arrives in the same half-second steps as the
 * connections did rather than as one burst of thousands of requests.
 * `onRelease` is called on every request built after the release (a client
 * then switches to prebuilt requests: requests.ts).
 */
export function holdingRequests(
  requests: RequestSpec[],
  hold: { untilS: number; path: string },
  chunkStartMs: number,
  timeoutS: number,
  onRelease?: () => void,
): Array<RequestSpec & { setupRequest: (req: RequestSpec) => RequestSpec }> {
  const release = chunkStartMs + hold.untilS * 1000;
  // A parked request must come back before autocannon's timeout would cut it.
  const cap = Math.max(1, timeoutS * 1000 - 1500);
  return requests.map((r) => ({
    ...r,
    setupRequest: (req: RequestSpec) => {
      const left = release - Date.now();
      if (left <= 0) {
        onRelease?.();
        return req;
      }
      return { ...req, method: 'GET', path: `${hold.path}${Math.min(Math.ceil(left), cap)}`, body: '' };
    },
  }));
}
