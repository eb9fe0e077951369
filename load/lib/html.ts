// Helpers for the self-contained HTML files the load tools write (the load
// report, the offline flamegraph).

/** JSON that is safe inside a <script> element: no "</script>", no line separators old parsers choke on. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value for HTML and inline SVG (the five characters XML reserves). */
export function escapeMarkup(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}
