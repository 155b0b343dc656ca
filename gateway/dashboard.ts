import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin } from '@apollo/server';
import type express from 'express';
import type { FeedVersions } from './feed-versions.js';
import { CONTENT_SECURITY_POLICY, sendHtml } from './web-assets.js';

/** What `/events` sends: every routed subgraph's feed version. */
export interface FeedVersionsEvent {
  /** The current version of each subgraph with a feed; null for one without a feed. */
  readonly versions: Readonly<Record<string, string | null>>;
  /** Subgraphs with a feed whose version the gateway cannot follow now (down or unreachable). */
  readonly unavailable: readonly string[];
}

function currentEvent(feedVersions: FeedVersions): FeedVersionsEvent {
  const versions: Record<string, string | null> = {};
  const unavailable: string[] = [];
  for (const [name, version] of feedVersions.snapshot()) {
    if (version === undefined) unavailable.push(name);
    else versions[name] = version;
  }
  return { versions, unavailable };
}

/** How often an idle event stream sends a comment, so proxies keep it open. */
const KEEP_ALIVE_MS = 15_000;

/**
 * The programme dashboard (`/dashboard`: gateway/dashboard.html, gateway/public/dashboard/) and the stream it
 * refreshes on: `/events`, server-sent events carrying the subgraphs' feed versions, sent
 * on connection and whenever one changes (a new report, or a subgraph lost or back). The
 * plugin ends the open streams when the gateway stops, so they never hold up the drain.
 */
export function dashboard(feedVersions: FeedVersions): { mount(app: express.Express): void; plugin: ApolloServerPlugin } {
  const html = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8').replace('__CSP__', CONTENT_SECURITY_POLICY);
  const streams = new Set<express.Response>();
  const mount = (app: express.Express) => {
    app.get('/dashboard', (_req, res) => sendHtml(res, html));
    app.get('/events', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      let last = '';
      const send = () => {
        const data = JSON.stringify(currentEvent(feedVersions));
        if (data === last) return;
        last = data;
        res.write(`event: feeds\ndata: ${data}\n\n`);
      };
      send();
      const unsubscribe = feedVersions.onChange(send);
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      streams.add(res);
      req.on('close', () => {
        unsubscribe();
        clearInterval(keepAlive);
        streams.delete(res);
      });
    });
  };
  const plugin: ApolloServerPlugin = {
    async serverWillStart() {
      return {
        async drainServer() {
          for (const res of streams) res.end();
        },
      };
    },
  };
  return { mount, plugin };
}
