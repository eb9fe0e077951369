// Runs in a piscina worker thread: the CPU-heavy part of POST /api/work.
//
// A stand-in for real CPU-bound work (image resizing, PDF rendering,
// compression, scoring): a keyed hash chain over the text, `rounds` times,
// plus word frequencies. Pure JavaScript on purpose — it occupies the thread
// the way user code would, unlike crypto calls that hop to libuv's pool.
export interface TransformTask {
  text: string;
  rounds: number;
}

export interface TransformResult {
  digest: string;
  top_words: Array<[string, number]>;
  worker_ms: number;
}

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export default function transform({ text, rounds }: TransformTask): TransformResult {
  const started = performance.now();
  let h = 0;
  for (let r = 0; r < rounds; r++) h = fnv1a(text, h);
  const counts = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
  return { digest: h.toString(16).padStart(8, '0'), top_words: top, worker_ms: performance.now() - started };
}
