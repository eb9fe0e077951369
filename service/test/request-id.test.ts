import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { genReqId, uuidV4 } from '../src/http/request-id.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('mints RFC 9562 version-4 UUIDs, the shape crypto.randomUUID() gives, distinct across pool refills', () => {
    expect(randomUUID()).toMatch(V4); // the reference shape
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = uuidV4();
      expect(id).toMatch(V4);
      seen.add(id);
    }
    expect(seen.size).toBe(100_000);
  });

  it('spreads every random hex position over all sixteen digits', () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2_000; i++) {
      const id = uuidV4();
      for (let p = 0; p < id.length; p++) digits[p]?.add(id.charAt(p));
    }
    const counts = digits.map((d) => d.size);
    // Dashes and the version digit are fixed; the variant digit takes 4 values; the other 30 take all 16.
    expect(counts.filter((n) => n === 16)).toHaveLength(30);
    expect(counts[14]).toBe(1);
    expect(counts[19]).toBe(4);
  });

  it('keeps a safe incoming x-request-id and replaces an unsafe one', () => {
    const req = (id?: string) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as IncomingMessage;
    expect(genReqId(req('abc-123.X'))).toBe('abc-123.X');
    expect(genReqId(req('bad id\r\n'))).toMatch(V4);
    expect(genReqId(req())).toMatch(V4);
  });
});
