import { readFileSync } from 'node:fs';
import type express from 'express';
import type { FeedVersions } from './feed-versions.js';
import { eventStream, type StreamLimits } from './streams.js';
import { CONTENT_SECURITY_POLICY, VENDOR, sendHtml } from './web-assets.js';

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

/**
 * The programme dashboard (`/dashboard`: gateway/dashboard.html, gateway/public/dashboard/,
 * kept current by its `@live` persisted operations on `/graphql`) and `/events`, for other
 * clients that follow the feeds: server-sent events carrying the subgraphs' feed versions, sent
 * on connection and whenever one changes (a new report, or a subgraph lost or back). The
 * stream is bounded by `streams` (per client and in total, heartbeats, idle and lifetime
 * limits), which also ends the open streams when the gateway stops.
 */
export function dashboard(feedVersions: FeedVersions, streams: StreamLimits): { mount(app: express.Express): void } {
  const html = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8')
    .replace('__CSP__', CONTENT_SECURITY_POLICY)
    .replace('__GRAPHQL_SSE__', VENDOR.graphqlSse.path);
  const mount = (app: express.Express) => {
    app.get('/dashboard', (_req, res) => sendHtml(res, html));
    app.get('/events', (req, res) => {
      const stream = eventStream(streams, req, res);
      if (!stream) return;
      let last = '';
      const send = () => {
        const data = JSON.stringify(currentEvent(feedVersions));
        if (data === last) return;
        last = data;
        stream.send('feeds', data);
      };
      send();
      stream.onClose(feedVersions.onChange(send));
    });
  };
  return { mount };
}
