/**
 * The explorer in a real (headless) Chromium with no internet: it loads from the gateway
 * alone, opens on the example operations (every tab and line in view at 1,400 px), runs
 * them, a live one showing each new answer as a report lands, shows the graph's and the
 * schema's descriptions, and sends edited variables and headers.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { EXPLORER_EXAMPLES } from '../gateway/explorer-examples.js';
import { ARTIFACTS_DIR, launchOfflineBrowser, type OfflineBrowser } from './browser.js';
import { startTestStack } from './helpers.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The answer the README shows for one of its example operations. */
function readmeAnswer(operation: string): unknown {
  const match = new RegExp(`\`\`\`graphql\\nquery ${operation} [\\s\\S]*?\`\`\`\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(readme);
  return JSON.parse(match![1]!);
}

// The South's reports up to the examples' day; a later one lands during the live test.
const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-explorer-'));

let stack: Stack;
let browser: OfflineBrowser;
let base: string;

beforeAll(async () => {
  for (const file of readdirSync(FEED).filter((f) => f <= 'fujitsu-south-2007-09-06.csv')) copyFileSync(join(FEED, file), join(dir, file));
  stack = await startTestStack({ env: { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50' }, log: () => {} });
  base = new URL('/', stack.gatewayUrl).href;
  browser = await launchOfflineBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The text of GraphiQL's response pane once it shows something. */
async function response(page: Page, containing: string): Promise<string> {
  const pane = page.locator('.graphiql-response');
  await expect.poll(() => pane.innerText(), { timeout: 15_000 }).toContain(containing);
  return pane.innerText();
}

async function openExplorer(path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(new URL(path, base).href);
  await page.locator('.graphiql-tab').first().waitFor({ timeout: 15_000 });
  return page;
}

describe('the explorer', () => {
  it('is served at /, /explorer and as /graphql landing page, naming only the gateway’s own files', async () => {
    for (const path of ['/', '/explorer', '/graphql']) {
      const res = await fetch(new URL(path, base), { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html, path).toContain('/static/explorer.js');
      // Every src and href is a path on this gateway (or an inline data: URL).
      const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(urls.length).toBeGreaterThan(3);
      expect(urls.filter((u) => !u.startsWith('/') && !u.startsWith('data:'))).toEqual([]);
    }
  });

  it('loads with the internet blocked, opens on the README examples and runs one', async () => {
    const page = await openExplorer('/explorer');
    const tabs = await page.locator('.graphiql-tab-button').allInnerTexts();
    expect(tabs).toEqual(EXPLORER_EXAMPLES.map((e) => /query (\w+)/.exec(e.query)![1]));
    const answered = page.waitForResponse(
      (r) => r.url().endsWith('/graphql') && r.request().postData()?.includes('R2AcrossClusters') === true,
    );
    await page.locator('.graphiql-execute-button').click();
    // What the analyst sees (the pane draws only its visible lines), and all of it: the README's answer.
    const text = await response(page, '"divergent": true');
    expect(text).toContain('"value": "SUSPENDED"');
    expect(text).toContain('"value": "LC2"');
    expect(((await (await answered).json()) as { data: unknown }).data).toEqual(readmeAnswer('R2AcrossClusters'));
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'explorer.png') });
    expect(browser.blocked).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it('shows every example tab, and every line of the first, at 1,400 px', async () => {
    // The browser's window is 1,400 by 900 px (test/browser.ts).
    const page = await openExplorer('/explorer?restore-examples');
    expect(page.viewportSize()).toEqual({ width: 1400, height: 900 });
    // Each tab's name whole and inside the window (none cut off, none pushed out of view).
    const tabs = await page.locator('.graphiql-tab-button').evaluateAll((buttons) =>
      buttons.map((b) => {
        const box = b.getBoundingClientRect();
        const clip = b.closest('.graphiql-tabs')!.getBoundingClientRect();
        return {
          name: b.textContent,
          whole: b.scrollWidth <= b.clientWidth + 1,
          inView: box.left >= clip.left && box.right <= clip.right + 1,
        };
      }),
    );
    expect(tabs.map((t) => t.name)).toEqual(EXPLORER_EXAMPLES.map((e) => /query (\w+)/.exec(e.query)![1]));
    expect(tabs.filter((t) => !t.whole || !t.inView)).toEqual([]);
    // The first example's lines: each shown, none under the editor's horizontal scrollbar.
    const editor = page.locator('.graphiql-query-editor');
    await expect.poll(() => editor.innerText()).toContain('aspects { aspect differs values { cluster { id } value } }');
    const lines = await editor.evaluate((editor) => {
      const bar = editor.querySelector('.CodeMirror-hscrollbar') as HTMLElement | null;
      const barBox = bar && getComputedStyle(bar).display !== 'none' ? bar.getBoundingClientRect() : null;
      const scroll = editor.querySelector('.CodeMirror-scroll')!;
      const view = scroll.getBoundingClientRect();
      return Array.from(editor.querySelectorAll('.CodeMirror-code > div')).map((line, index) => {
        const text = line.querySelector('pre')!;
        const range = document.createRange();
        range.selectNodeContents(text);
        const box = range.getBoundingClientRect();
        return {
          line: index + 1,
          shown: box.top >= view.top - 1 && box.bottom <= view.bottom + 1 && box.left >= view.left - 1 && box.right <= view.right + 1,
          underScrollbar: barBox !== null && barBox.height > 0 && barBox.width > 0 && box.bottom > barBox.top,
        };
      });
    });
    // Each line of the tab (its title comment, the operation, GraphiQL's empty last line).
    expect(lines.length).toBe(EXPLORER_EXAMPLES[0]!.query.split('\n').length + 1);
    expect(lines.filter((l) => !l.shown || l.underScrollbar)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'explorer-1400.png') });
    await page.close();
  });

  it('opens its docs pane on the graph’s own description', async () => {
    const page = await openExplorer('/');
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await expect.poll(() => docs.innerText(), { timeout: 15_000 }).toContain('The rollout of Cerner Millennium across the NHS clusters');
    expect(await docs.innerText()).not.toContain('A GraphQL schema provides a root type');
    await page.close();
  });

  it('runs the live matrix and shows each new answer as a report lands', async () => {
    const page = await openExplorer('/explorer?restore-examples');
    const streams: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/graphql') && r.headers()['accept'] === 'text/event-stream') streams.push(r.postData() ?? '');
    });
    await page.locator('.graphiql-tab-button', { hasText: 'LiveMatrix' }).click();
    // GraphiQL takes the tab's operation name a moment after its text.
    await expect.poll(() => page.locator('.graphiql-query-editor').innerText()).toContain('query LiveMatrix @live');
    await page.waitForTimeout(300);
    await page.locator('.graphiql-execute-button').click();
    // As of 6 September 2007 Worthing is not live yet: the South has six trusts live on R0.
    const first = await response(page, '"trustsLive": 6');
    expect(streams).toHaveLength(1);
    expect(JSON.parse(streams[0]!).query).toContain('query LiveMatrix @live');
    copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dir, 'fujitsu-south-2008-01-31.csv'));
    // The same run, a new answer: no second request.
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 15_000 }).not.toBe(first);
    expect(await page.locator('.graphiql-response').innerText()).toContain('"trustsLive": 8');
    expect(streams).toHaveLength(1);
    // Stopping the run ends the stream.
    await page.locator('.graphiql-execute-button').click();
    expect(browser.blocked).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it('shows the schema’s descriptions in its docs pane', async () => {
    const page = await openExplorer('/');
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('Query', { exact: true }).first().click();
    await expect.poll(() => docs.innerText(), { timeout: 15_000 }).toContain('The questions the supergraph answers');
    expect(await docs.innerText()).toContain('How one release differs between the clusters');
    await page.close();
  });

  it('sends the variables and headers the analyst edits', async () => {
    const page = await openExplorer('/');
    await page.locator('.graphiql-tab-button', { hasText: 'CompareOnADay' }).click();
    const variables = page.locator('.graphiql-editor-tool .graphiql-editor').first();
    await expect.poll(() => variables.innerText()).toContain('"R2"');
    await variables.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText('{ "code": "R0", "asOf": "2007-09-06" }');
    await page.getByRole('button', { name: 'Headers' }).click();
    await page.locator('.graphiql-editor-tool .graphiql-editor').last().click();
    await page.keyboard.insertText('{ "x-analyst": "explorer-test" }');
    const sent = page.waitForRequest(
      (r) => r.url().endsWith('/graphql') && r.method() === 'POST' && r.postData()?.includes('CompareOnADay') === true,
    );
    await page.locator('.graphiql-execute-button').click();
    const request = await sent;
    expect(JSON.parse(request.postData()!).variables).toEqual({ code: 'R0', asOf: '2007-09-06' });
    expect(request.headers()['x-analyst']).toBe('explorer-test');
    const text = await response(page, '"code": "R0"');
    expect(text).toContain('"name": "Release 0"');
    expect(browser.blocked).toEqual([]);
    await page.close();
  });

  it('reopens the analyst’s tabs as they left them, until they restore the example tabs', async () => {
    const page = await openExplorer('/explorer');
    const tabs = page.locator('.graphiql-tab-button');
    await tabs.filter({ hasText: 'R2AcrossClusters' }).click();
    await page.locator('.graphiql-tab', { hasText: 'R2AcrossClusters' }).getByRole('button', { name: 'Close Tab' }).click();
    await expect.poll(() => tabs.allInnerTexts()).not.toContain('R2AcrossClusters');
    // GraphiQL saves its tabs half a second after a change.
    await page.waitForTimeout(1000);
    await page.reload();
    await tabs.first().waitFor();
    expect(await tabs.allInnerTexts()).not.toContain('R2AcrossClusters');
    await page.getByRole('link', { name: 'Restore the example tabs' }).click();
    await page.waitForURL(/\/explorer$/);
    await tabs.first().waitFor();
    expect(await tabs.allInnerTexts()).toEqual(EXPLORER_EXAMPLES.map((e) => /query (\w+)/.exec(e.query)![1]));
    await page.close();
  });
});
