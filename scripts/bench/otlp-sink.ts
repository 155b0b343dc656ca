/**
 * A local OTLP/HTTP sink for the benchmark's traced variant: it accepts every POST (the
 * gateway's span batches to `/v1/traces`), reads it whole and answers 200, so the traced
 * gateway pays for building and exporting its spans and nothing else.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
server.listen(0, '127.0.0.1', () => {
  console.log(`otlp-sink listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
