// Raw HTTP/1.1 over TCP: for requests no well-behaved client would send.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** Status code of the first response, or undefined when the server closed without one. */
  status: number | undefined;
  head: string;
  body: string;
  closedBy: 'server' | 'timeout' | 'client';
}

/**
 * Write `data` (then half-close unless `keepOpen`), collect whatever comes back
 * until the server closes or `timeoutMs` passes.
 */
export function rawRequest(
  port: number,
  data: string | Buffer | Array<string | Buffer>,
  opts: { timeoutMs?: number; keepOpen?: boolean; gapMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect(port, '127.0.0.1');
    let done = false;
    const finish = (closedBy: RawResponse['closedBy']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const m = head.match(/^HTTP\/1\.[01] (\d{3})/);
      resolve({
        status: m ? Number(m[1]) : undefined,
        head,
        body: split === -1 ? '' : text.slice(split + 4),
        closedBy,
      });
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 5_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => finish('server'));
    socket.on('error', () => finish('server'));
    socket.on('connect', async () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const p of parts) {
        if (done) return;
        socket.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (!opts.keepOpen) socket.end();
    });
  });
}
