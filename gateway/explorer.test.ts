import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPLORER_EXAMPLES } from './explorer-examples.js';
import { explorerHtml, type ExplorerPageConfig } from './explorer.js';
import { VENDOR } from './web-assets.js';

function pageConfig(html: string): ExplorerPageConfig {
  const json = /<script type="application\/json" id="explorer-config">(.*?)<\/script>/s.exec(html)?.[1];
  return JSON.parse(json!) as ExplorerPageConfig;
}

describe('the explorer page', () => {
  it('carries one tab per example, with its question and variables', () => {
    const config = pageConfig(explorerHtml());
    expect(config.endpoint).toBe('/graphql');
    expect(config.tabs).toHaveLength(EXPLORER_EXAMPLES.length);
    expect(config.tabs[0]!.query).toBe(`# ${EXPLORER_EXAMPLES[0]!.title}\n${EXPLORER_EXAMPLES[0]!.query}`);
    expect(config.tabs.filter((t) => t.variables).length).toBe(EXPLORER_EXAMPLES.filter((e) => e.variables).length);
  });

  it('keeps its embedded JSON from ending the script element', () => {
    const html = explorerHtml('/graphql?x=</script><script>alert(1)</script>');
    // Every element the page opens is closed by its own tag, none by the endpoint's text.
    expect(html.match(/<\/script>/g)).toHaveLength(html.match(/<script[ >]/g)!.length);
    expect(pageConfig(html).endpoint).toBe('/graphql?x=</script><script>alert(1)</script>');
  });

  it('loads GraphiQL, React and graphql-sse from the installed packages, at versioned paths', () => {
    for (const asset of Object.values(VENDOR)) {
      expect(existsSync(asset.file), asset.file).toBe(true);
      expect(asset.path).toMatch(/^\/vendor\/[a-z-]+@\d+\.\d+\.\d+\/[\w.-]+$/);
      expect(explorerHtml()).toContain(asset.path);
    }
  });
});
