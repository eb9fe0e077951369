// What each autocannon client sends, arranged so the generator pays as little
// as possible a request. Why it matters: the generator has one core, as the
// service does, and autocannon costs about as much CPU a response as the
// service on a hello-sized route; when the generator saturates first, a
// scenario measures the generator (c10k's 1,000-connection reference did).
//
// Two autocannon costs are avoided here (autocannon 9, lib/requestIterator.js):
// - A request with a `setupRequest` is rebuilt before every send (headers
//   merged, request line and buffer built anew): ~18 µs a response, measured
//   with --cpu-prof on Node 24, about a quarter of the generator's CPU. Only
//   the hold needs one, so a holding client switches to prebuilt requests as
//   soon as its hold is over.
// - Each time the iterator wraps round the request list it deep-clones the
//   (empty) request context with lodash: ~1.7 µs, on every request when the
//   list has one entry. A short list is repeated so that happens once in
//   CYCLE_MIN requests; the order of requests is unchanged.
import type autocannon from 'autocannon';
import type { PhaseSpec, RequestSpec } from '../types.js';
import { holdingRequests } from './ramp.js';

const CYCLE_MIN = 16;

function toAutocannon(requests: Array<RequestSpec & { setupRequest?: unknown }>): autocannon.Request[] {
  return requests.map((r) => ({
    ...r,
    method: r.method as 'GET',
    ...(r.headers ? { headers: { ...r.headers } } : {}),
    ...(r.body !== undefined ? { body: r.body } : {}),
  })) as autocannon.Request[];
}

/** The phase's requests, repeated whole until the list has at least CYCLE_MIN entries. */
export function cycledRequests(requests: RequestSpec[]): RequestSpec[] {
  if (requests.length === 0) return requests;
  const times = Math.ceil(CYCLE_MIN / requests.length);
  return Array.from({ length: times }, () => requests).flat();
}

/**
 * autocannon options for one chunk of a phase's connections: `requests`, and
 * for a phase with a hold, a `setupClient` that gives every client its own
 * holding requests and, on its first request after the release, its own
 * copy of the prebuilt ones (autocannon mutates the request objects it is
 * given, so clients do not share them).
 */
export function clientRequests(
  spec: Pick<PhaseSpec, 'requests' | 'hold' | 'timeoutS'>,
  chunkStartMs: number,
): Pick<autocannon.Options, 'requests' | 'setupClient'> {
  const load = cycledRequests(spec.requests);
  const { hold } = spec;
  if (!hold) return { requests: toAutocannon(load) };
  return {
    requests: toAutocannon(holdingRequests(spec.requests, hold, chunkStartMs, spec.timeoutS)),
    setupClient: (client) => {
      let released = false;
      const onRelease = () => {
        if (released) return;
        released = true;
        // After the request being built now (setRequests from inside the
        // iterator's own build would replace the list under it).
        queueMicrotask(() => client.setRequests(toAutocannon(load)));
      };
      client.setRequests(toAutocannon(holdingRequests(spec.requests, hold, chunkStartMs, spec.timeoutS, onRelease)));
    },
  };
}
