// The explorer: GraphiQL (UMD build, served by the gateway) on the example operations that
// the gateway put in the page (gateway/explorer.ts). Globals: React, ReactDOM, GraphiQL.
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('explorer-config').textContent);
  var fetcher = GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href });
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
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
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
      },
      h(GraphiQL.Logo, null, 'Millennium supergraph'),
      h(GraphiQL.Footer, null, links),
    ),
  );
})();
