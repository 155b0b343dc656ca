/**
 * The ceiling for a cached answer in `npm run bench`: a bare `node:http` server that answers
 * every request with the bytes and headers of a response-cache hit, captured from the gateway
 * in the same run (BARE_RESPONSE_FILE, JSON `{ headers, body }`). It reads each request body
 * to its end, as any server must before answering on a kept-alive connection, and does
 * nothing else. Listens on 127.0.0.1, a free port; prints `bare listening on URL`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const file = process.env['BARE_RESPONSE_FILE'];
if (!file) throw new Error('BARE_RESPONSE_FILE is required');
const captured = JSON.parse(readFileSync(file, 'utf8')) as { headers: Record<string, string>; body: string };
const body = Buffer.from(captured.body);
const headers = { ...captured.headers, 'content-length': String(body.length) };

const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`bare      listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
