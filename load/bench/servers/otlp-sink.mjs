// An OTLP/HTTP endpoint that accepts and discards span batches, so the
// benchmark pays the real cost of exporting without a collector's CPU.
import { createServer } from 'node:http';

let batches = 0;
let bytes = 0;
const server = createServer((req, res) => {
  req.on('data', (c) => {
    bytes += c.length;
  });
  req.on('end', () => {
    batches++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ batches, bytes })}\n`);
  process.exit(0);
});
