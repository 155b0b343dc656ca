/**
 * The explorer in a real (headless) Chromium with no internet: it loads from the gateway
 * alone, opens on the example operations, runs them, shows the schema's descriptions, and
 * sends edited variables and headers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

let stack: Stack;
let browser: OfflineBrowser;
let base: string;

beforeAll(async () => {
  stack = await startTestStack({ log: () => {} });
  base = new URL('/', stack.gatewayUrl).href;
  browser = await launchOfflineBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
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
