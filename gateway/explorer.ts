import type { ApolloServerPlugin } from '@apollo/server';
import type express from 'express';
import { EXPLORER_EXAMPLES, exampleTabQuery } from './explorer-examples.js';
import { CONTENT_SECURITY_POLICY, VENDOR, sendHtml } from './web-assets.js';
import { GRAPHQL_PATH } from '../schema/wire.js';

/** What the explorer's script reads from its page (gateway/public/explorer.js). */
export interface ExplorerPageConfig {
  /** Where the explorer sends operations. */
  readonly endpoint: string;
  /** The example operations, one tab each. */
  readonly tabs: readonly { readonly query: string; readonly variables?: string }[];
}

/** JSON that is safe inside a `<script>` element: no `</script>`, no `<!--`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The explorer's page: GraphiQL from the gateway's own files, opening on the example
 * operations. Every path is absolute, so the same page works at `/`, `/explorer` and as
 * `/graphql`'s landing page.
 */
export function explorerHtml(endpoint = GRAPHQL_PATH): string {
  const config: ExplorerPageConfig = {
    endpoint,
    tabs: EXPLORER_EXAMPLES.map((e) => ({ query: exampleTabQuery(e), ...(e.variables ? { variables: e.variables } : {}) })),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>Millennium supergraph explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${VENDOR.graphiqlCss.path}">
<link rel="stylesheet" href="/static/explorer.css">
</head>
<body>
<main id="graphiql" aria-label="GraphQL explorer"><p class="explorer-loading">Loading the explorer…</p></main>
<noscript>The explorer needs JavaScript. Without it, send queries to ${escapeHtml(endpoint)} with curl (see the README).</noscript>
<script type="application/json" id="explorer-config">${scriptJson(config)}</script>
<script src="${VENDOR.react.path}"></script>
<script src="${VENDOR.reactDom.path}"></script>
<script src="${VENDOR.graphiql.path}"></script>
<script src="${VENDOR.graphqlSse.path}"></script>
<script src="/static/explorer.js"></script>
</body>
</html>
`;
}

/**
 * Apollo Server's landing page (a browser's GET of `/graphql`) is the explorer: Apollo's own
 * loads from its CDN and is blank offline.
 */
export function explorerLandingPage(): ApolloServerPlugin {
  const html = explorerHtml();
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html };
        },
      };
    },
  };
}

/** Serves the explorer at `/` and `/explorer`. */
export function mountExplorer(app: express.Express): void {
  const html = explorerHtml();
  app.get(['/', '/explorer'], (_req, res) => sendHtml(res, html));
}
