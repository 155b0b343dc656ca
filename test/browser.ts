/**
 * Headless Chromium for the browser tests through playwright-core (never a browser download):
 * the executable the global setup found or installed (test/setup/chromium.ts: `CHROMIUM_PATH`,
 * else Debian's /usr/bin/chromium), with every request that is not for this machine blocked and
 * recorded, as on a hospital network without internet.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Where the browser tests save their screenshots (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('./artifacts/', import.meta.url));

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A browser whose pages can reach only 127.0.0.1 and localhost. */
export interface OfflineBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  /** Every request to anywhere else, which was blocked. */
  readonly blocked: string[];
  /** Console errors and uncaught exceptions of every page. */
  readonly pageErrors: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

function isLocal(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** Launches Chromium; close it in `afterAll`. */
export async function launchOfflineBrowser(): Promise<OfflineBrowser> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: inject('chromiumPath'), args: FLAGS });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
  const blocked: string[] = [];
  const pageErrors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  return {
    browser,
    context,
    blocked,
    pageErrors,
    newPage: async () => {
      const page = await context.newPage();
      // A step that cannot happen fails on its own, well before the test's timeout.
      page.setDefaultTimeout(10_000);
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(message.text());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      return page;
    },
    close: () => browser.close(),
  };
}
