// An OTLP/HTTP endpoint that accepts and discards span batches, so the
// benchmark pays the real cost of exporting without a collector's CPU.
// Each variant exports to its own base path (OTEL_EXPORTER_OTLP_ENDPOINT
// http://host:port/<variant>, to which the exporter appends /v1/traces), so
// the counts say which variant really exported; printed as JSON on SIGTERM.
import { createServer } from 'node:http';

/** Batches and bytes received, by the path before /v1/traces. */
const received = {};
const server = createServer((req, res) => {
  const path = (req.url ?? '').replace(/\/v1\/traces$/, '').replace(/^\//, '') || '/';
  received[path] ??= { batches: 0, bytes: 0 };
  const r = received[path];
  req.on('data', (c) => {
    r.bytes += c.length;
  });
  req.on('end', () => {
    r.batches++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(received)}\n`);
  process.exit(0);
});
