// The OTLP/protobuf encoding of a batch of spans (ExportTraceServiceRequest),
// in one pass over the spans.
//
// Why not the exporter's own (@opentelemetry/otlp-transformer's
// serializeTraceExportRequest): it walks every span twice (a size estimate,
// then the write), checks for room before every field it writes, allocates a
// Uint8Array per id and decodes the ids' hex a character at a time — slow on
// the sliced strings the id pool hands out (pooled-id-generator.ts). Under
// load (CPU profiles, docs/telemetry.md) it was the largest single piece of a
// sampled span's cost. `npm run bench:otlp-encoder` (Node 24, 512 server
// spans): 4.8 µs a span there, 1.7 µs here.
//
// Spec: opentelemetry-proto, collector/trace/v1/trace_service.proto and
// trace/v1/trace.proto. The output is byte for byte what the transformer
// writes (same field order, the same fields written at their default value,
// minimal varints), and service/test/otlp-trace-serializer.test.ts holds it
// to that on spans with events, links, errors and every attribute type, so
// what a collector receives does not depend on which of the two wrote it.
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Span flags (trace.proto SpanFlags): trace flags in the low byte, plus whether the parent was remote. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const NANOS = 1_000_000_000;

type Scope = ReadableSpan['instrumentationScope'] & { attributes?: Attributes; droppedAttributesCount?: number };

/**
 * A growing byte buffer. Length-delimited fields reserve one byte for their
 * length and move the body along when the length needs more (most KeyValues
 * are under 128 bytes; a span needs two, a batch three). Field tags are one
 * byte (fields 1-15) except where a method says otherwise.
 */
class Writer {
  pos = 0;

  constructor(public buf: Buffer) {}

  /** Room for n more bytes. Every write below checks once, not per byte. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A tag or any varint below 2^32 (the caller has made room for 5 bytes). */
  varint32(v: number): void {
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** int64 as protobuf varint: two's complement for negatives (10 bytes). */
  varint64(value: number): void {
    this.room(10);
    if (value >= 0 && value <= 0xffffffff) {
      this.varint32(value >>> 0);
      return;
    }
    let low: number;
    let high: number;
    const abs = Math.abs(value);
    low = abs >>> 0;
    high = (abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    const b = this.buf;
    let p = this.pos;
    while (high > 0 || low > 0x7f) {
      b[p++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    b[p++] = low & 0x7f;
    this.pos = p;
  }

  /** Start a length-delimited body; returns where its length goes. */
  open(): number {
    this.room(1);
    return this.pos++;
  }

  /** Write the body's length at `at`, moving the body if the length needs more than one byte. */
  close(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const size = len < 0x4000 ? 2 : len < 0x200000 ? 3 : len < 0x10000000 ? 4 : 5;
    this.room(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    const end = this.pos;
    this.pos = at;
    this.varint32(len);
    this.pos = end;
  }

  /** A string field: tag, UTF-8 length, bytes. */
  string(tag: number, s: string): void {
    const n = s.length;
    this.room(n * 3 + 10);
    const b = this.buf;
    b[this.pos++] = tag;
    if (n < 0x80) {
      // Short ASCII (ids, names, methods, keys): a byte a character, no call into C++.
      let p = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (i === n) {
        b[this.pos] = n;
        this.pos = p;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint32(bytes);
    this.pos += b.write(s, this.pos, bytes, 'utf8');
  }

  /**
   * A bytes field from hex (trace and span ids). Buffer's own hex decoder:
   * the ids are slices of a larger string (pooled-id-generator.ts), on which
   * a JavaScript charCodeAt loop measured ~350 ns an id against ~145. It
   * stops at a character that is not hex; the rest is then decoded as the
   * transformer does, so malformed ids still give the same bytes.
   */
  hex(tag: number, hex: string): void {
    const n = hex.length >>> 1;
    this.room(n + 6);
    const b = this.buf;
    b[this.pos++] = tag;
    this.varint32(n);
    const done = b.write(hex, this.pos, n, 'hex');
    let p = this.pos + done;
    for (let i = done * 2; i < n * 2; i += 2) b[p++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
    this.pos += n;
  }

  bytes(tag: number, v: Uint8Array): void {
    this.room(v.length + 6);
    this.buf[this.pos++] = tag;
    this.varint32(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** A uint32 varint field (tag < 128). */
  uint(tag: number, v: number): void {
    this.room(6);
    this.buf[this.pos++] = tag;
    this.varint32(v >>> 0);
  }

  /** A fixed32 field; its tag may need two bytes (Span.flags is field 16). */
  fixed32(tag: number, v: number): void {
    this.room(6);
    this.varint32(tag);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** HrTime as fixed64 nanoseconds since the epoch, exactly (the sum exceeds 2^53, so in two halves). */
  time(tag: number, t: HrTime): void {
    this.room(9);
    const seconds = t[0];
    const lo16 = (seconds & 0xffff) * NANOS;
    const hiBits = ((seconds / 0x10000) >>> 0) * NANOS;
    const low = (lo16 >>> 0) + (((hiBits & 0xffff) * 0x10000) >>> 0) + t[1];
    const high = Math.floor(lo16 / 0x100000000) + ((hiBits / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
    const b = this.buf;
    let p = this.pos;
    b[p++] = tag;
    b[p++] = low;
    b[p++] = low >>> 8;
    b[p++] = low >>> 16;
    b[p++] = low >>> 24;
    b[p++] = high;
    b[p++] = high >>> 8;
    b[p++] = high >>> 16;
    b[p++] = high >>> 24;
    this.pos = p;
  }

  double(tag: number, v: number): void {
    this.room(9);
    this.buf[this.pos++] = tag;
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  tag(t: number): void {
    this.room(6);
    this.varint32(t);
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return c - 55; // A-F
}

/** Field tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
const T = {
  // KeyValue, AnyValue, ArrayValue, KeyValueList
  kvKey: (1 << 3) | 2,
  kvValue: (2 << 3) | 2,
  anyString: (1 << 3) | 2,
  anyBool: (2 << 3) | 0,
  anyInt: (3 << 3) | 0,
  anyDouble: (4 << 3) | 1,
  anyArray: (5 << 3) | 2,
  anyKvList: (6 << 3) | 2,
  anyBytes: (7 << 3) | 2,
  listValue: (1 << 3) | 2,
} as const;

function attributes(w: Writer, attrs: Attributes, field: number): void {
  const tag = (field << 3) | 2;
  for (const key in attrs) {
    if (!Object.hasOwn(attrs, key)) continue;
    w.tag(tag);
    keyValue(w, key, attrs[key]);
  }
}

function keyValue(w: Writer, key: string, value: unknown): void {
  const kv = w.open();
  w.string(T.kvKey, key);
  w.tag(T.kvValue);
  const v = w.open();
  anyValue(w, value);
  w.close(v);
  w.close(kv);
}

function anyValue(w: Writer, value: unknown): void {
  if (typeof value === 'string') w.string(T.anyString, value);
  else if (typeof value === 'boolean') w.uint(T.anyBool, value ? 1 : 0);
  else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      w.tag(T.anyInt);
      w.varint64(value);
    } else w.double(T.anyDouble, value);
  } else if (value instanceof Uint8Array) w.bytes(T.anyBytes, value);
  else if (Array.isArray(value)) {
    w.tag(T.anyArray);
    const list = w.open();
    for (const item of value as AttributeValue[]) {
      w.tag(T.listValue);
      const v = w.open();
      anyValue(w, item);
      w.close(v);
    }
    w.close(list);
  } else if (typeof value === 'object' && value !== null) {
    w.tag(T.anyKvList);
    const list = w.open();
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      w.tag(T.listValue);
      keyValue(w, k, obj[k]);
    }
    w.close(list);
  }
  // null and undefined: an empty AnyValue, as the transformer writes it.
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function link(w: Writer, l: ReadableSpan['links'][number]): void {
  const at = w.open();
  const c: SpanContext = l.context;
  w.hex((1 << 3) | 2, c.traceId);
  w.hex((2 << 3) | 2, c.spanId);
  const state = c.traceState?.serialize();
  if (state) w.string((3 << 3) | 2, state);
  if (l.attributes) attributes(w, l.attributes, 4);
  w.uint((5 << 3) | 0, l.droppedAttributesCount || 0);
  w.fixed32((6 << 3) | 5, spanFlags(c.traceFlags, c.isRemote));
  w.close(at);
}

function event(w: Writer, e: ReadableSpan['events'][number]): void {
  const at = w.open();
  w.time((1 << 3) | 1, e.time);
  w.string((2 << 3) | 2, e.name);
  if (e.attributes) attributes(w, e.attributes, 3);
  w.uint((4 << 3) | 0, e.droppedAttributesCount || 0);
  w.close(at);
}

/** trace.proto Span, fields 1-16 in order. */
function span(w: Writer, s: ReadableSpan): void {
  const at = w.open();
  const ctx = s.spanContext();
  const parent = s.parentSpanContext;
  w.hex((1 << 3) | 2, ctx.traceId);
  w.hex((2 << 3) | 2, ctx.spanId);
  const state = ctx.traceState?.serialize();
  if (state) w.string((3 << 3) | 2, state);
  if (parent?.spanId) w.hex((4 << 3) | 2, parent.spanId);
  w.string((5 << 3) | 2, s.name);
  // The API's SpanKind starts at INTERNAL = 0; the proto's at UNSPECIFIED = 0.
  if (s.kind != null) w.uint((6 << 3) | 0, s.kind + 1);
  w.time((7 << 3) | 1, s.startTime);
  w.time((8 << 3) | 1, s.endTime);
  if (s.attributes) attributes(w, s.attributes, 9);
  w.uint((10 << 3) | 0, s.droppedAttributesCount);
  for (const e of s.events) {
    w.tag((11 << 3) | 2);
    event(w, e);
  }
  w.uint((12 << 3) | 0, s.droppedEventsCount);
  for (const l of s.links) {
    w.tag((13 << 3) | 2);
    link(w, l);
  }
  w.uint((14 << 3) | 0, s.droppedLinksCount);
  // Status: message (2) if any, code (3) always.
  w.tag((15 << 3) | 2);
  const status = w.open();
  if (s.status.message) w.string((2 << 3) | 2, s.status.message);
  w.uint((3 << 3) | 0, s.status.code);
  w.close(status);
  w.fixed32((16 << 3) | 5, spanFlags(ctx.traceFlags, parent?.isRemote));
  w.close(at);
}

function scope(w: Writer, sc: Scope): void {
  w.tag((1 << 3) | 2);
  const at = w.open();
  w.string((1 << 3) | 2, sc.name);
  if (sc.version) w.string((2 << 3) | 2, sc.version);
  if (sc.attributes) attributes(w, sc.attributes, 3);
  if (sc.droppedAttributesCount) w.uint((4 << 3) | 0, sc.droppedAttributesCount);
  w.close(at);
}

/** Spans grouped by resource, then by instrumentation scope (by identity, in first-seen order). */
function group(spans: ReadableSpan[]): Map<ReadableSpan['resource'], Map<Scope, ReadableSpan[]>> {
  const byResource = new Map<ReadableSpan['resource'], Map<Scope, ReadableSpan[]>>();
  for (const s of spans) {
    let byScope = byResource.get(s.resource);
    if (!byScope) {
      byScope = new Map();
      byResource.set(s.resource, byScope);
    }
    const list = byScope.get(s.instrumentationScope);
    if (list) list.push(s);
    else byScope.set(s.instrumentationScope, [s]);
  }
  return byResource;
}

/** The last batch's size: the next one's buffer starts a little larger, so it rarely grows. */
let lastBytes = 16 * 1024;

/** ExportTraceServiceRequest for `spans`: a fresh Uint8Array the caller owns. */
export function serializeTraceExportRequest(spans: ReadableSpan[]): Uint8Array {
  // A new buffer per batch (not zero-filled), handed to the exporter as it
  // is: the exporter sends it later, while the next batch may be written.
  const w = new Writer(Buffer.allocUnsafe(Math.ceil(lastBytes * 1.25) + 1024));
  for (const [resource, byScope] of group(spans)) {
    w.tag((1 << 3) | 2); // ExportTraceServiceRequest.resource_spans
    const rs = w.open();
    // ResourceSpans.resource: attributes (1), dropped_attributes_count (2).
    w.tag((1 << 3) | 2);
    const r = w.open();
    attributes(w, resource.attributes, 1);
    w.uint((2 << 3) | 0, 0);
    w.close(r);
    for (const [sc, list] of byScope) {
      w.tag((2 << 3) | 2); // ResourceSpans.scope_spans
      const ss = w.open();
      scope(w, sc);
      for (const s of list) {
        w.tag((2 << 3) | 2); // ScopeSpans.spans
        span(w, s);
      }
      if (sc.schemaUrl) w.string((3 << 3) | 2, sc.schemaUrl);
      w.close(ss);
    }
    if (resource.schemaUrl) w.string((3 << 3) | 2, resource.schemaUrl);
    w.close(rs);
  }
  lastBytes = w.pos;
  return w.buf.subarray(0, w.pos);
}
