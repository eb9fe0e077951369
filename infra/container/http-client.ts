// One HTTP request per connection, with a bound, for the container test.
//
// node:http rather than fetch: while the service is still starting, the port
// forwarder accepts the connection and then resets it. node:http reports that
// as ECONNRESET; Node 20's fetch (undici) was seen to leave the promise
// pending forever, which would turn a readiness poll into a hang.
import { request } from 'node:http';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as UTF-8 text. */
  body: string;
  /** The body's bytes, for binary responses. */
  raw: Buffer;
}

export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 5_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no response in time`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
