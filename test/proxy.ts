/** A pass-through HTTP proxy in front of a subgraph, for tests that watch or slow its calls. */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyOptions {
  /** Sees each request before it is forwarded (e.g. to record its headers). */
  readonly onRequest?: (req: IncomingMessage) => void;
  /** How long to hold each answer before sending it on, in ms (0 by default). */
  readonly holdMs?: (req: IncomingMessage) => number;
}

export interface Proxy {
  /** The proxy's `/graphql` URL. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 forwarding to `target`'s host. */
export function forwardingProxy(target: string, options: ProxyOptions = {}): Promise<Proxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    options.onRequest?.(req);
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        setTimeout(
          () => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
          options.holdMs?.(req) ?? 0,
        );
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
        close: async () => {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
        },
      }),
    ),
  );
}
