// The explorer: GraphiQL (UMD build, served by the gateway) on the example operations that
// the gateway put in the page (gateway/explorer.ts). Globals: React, ReactDOM, GraphiQL,
// graphqlSse (graphql-sse's client).
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('explorer-config').textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  // Client awareness: the gateway's logs, metrics and check reports name the explorer.
  var CLIENT = { 'apollographql-client-name': 'explorer' };
  var once = GraphiQL.createFetcher({ url: endpoint, headers: CLIENT });
  // A document that may hold a `@live` query or a subscription goes over server-sent events,
  // and GraphiQL shows each result as it arrives (it reads the async iterable to the end, or
  // until the analyst stops it). Any other operation over SSE would get one result too, so a
  // false match costs nothing; a plain POST keeps the usual answers cacheable and simple.
  var STREAMING = /@live\b|(^|[^\w$])subscription\b/;
  function fetcher(params, options) {
    if (!STREAMING.test(params.query || '')) return once(params, options);
    var client = graphqlSse.createClient({
      url: endpoint,
      headers: Object.assign({}, CLIENT, (options && options.headers) || {}),
      // One try: GraphiQL shows a refusal (e.g. too many streams) rather than waiting on retries.
      retryAttempts: 0,
    });
    return client.iterate(params);
  }
  var h = React.createElement;
  // GraphiQL keeps the analyst's tabs in the browser and reopens them. `?restore-examples`
  // forgets them (not the history) before GraphiQL starts, so it opens on the examples.
  var url = new URL(window.location.href);
  if (url.searchParams.has('restore-examples')) {
    ['tabState', 'query', 'variables', 'headers', 'operationName'].forEach(function (key) {
      window.localStorage.removeItem('graphiql:' + key);
    });
    url.searchParams.delete('restore-examples');
    window.history.replaceState(null, '', url);
  }
  var links = h(
    'nav',
    { className: 'explorer-links', 'aria-label': 'Explorer links' },
    h('a', { href: '/dashboard' }, 'Programme dashboard'),
    h('a', { href: '/explorer?restore-examples' }, 'Restore the example tabs'),
  );
  // Long lines wrap in every editor (GraphiQL offers no option for it): a line wider than the
  // pane would otherwise run under the editor's horizontal scrollbar, out of sight. The
  // editors come and go with tabs and panes, so each new one is set as it appears.
  var root = document.getElementById('graphiql');
  new MutationObserver(function () {
    root.querySelectorAll('.CodeMirror').forEach(function (wrapper) {
      var editor = wrapper.CodeMirror;
      if (editor && !editor.getOption('lineWrapping')) editor.setOption('lineWrapping', true);
    });
  }).observe(root, { childList: true, subtree: true });
  ReactDOM.createRoot(root).render(
    h(
      GraphiQL,
      {
        fetcher: fetcher,
        defaultTabs: config.tabs,
        // Variables and headers open below the query, so analysts see they can edit them.
        defaultEditorToolsVisibility: true,
        isHeadersEditorEnabled: true,
        // Headers (e.g. Authorization) stay in this tab's memory, not in the browser's storage.
        shouldPersistHeaders: false,
        // The docs pane opens on the graph's own description, not GraphiQL's generic text.
        schemaDescription: true,
      },
      h(GraphiQL.Logo, null, 'Millennium supergraph'),
      h(GraphiQL.Footer, null, links),
    ),
  );
})();
