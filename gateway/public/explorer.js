// The explorer: GraphiQL (UMD build, served by the gateway) on the example operations that
// the gateway put in the page (gateway/explorer.ts). Globals: React, ReactDOM, GraphiQL.
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('explorer-config').textContent);
  var fetcher = GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href });
  var h = React.createElement;
  var logo = h(
    GraphiQL.Logo,
    null,
    h('span', null, 'Millennium supergraph '),
    h('a', { href: '/dashboard', className: 'explorer-dashboard-link' }, 'Programme dashboard'),
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
      logo,
    ),
  );
})();
