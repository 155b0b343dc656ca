import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

/**
 * What the browser pages (explorer, dashboard) load, all from the gateway itself: hospital
 * networks have no internet, so nothing may come from a CDN.
 */

const require = createRequire(import.meta.url);

function packageDir(name: string): { dir: string; version: string } {
  const manifest = require.resolve(`${name}/package.json`);
  return { dir: dirname(manifest), version: (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version };
}

/** One file of an npm package, served under a path that carries the package's version. */
interface VendorFile {
  readonly path: string;
  readonly file: string;
}

function vendor(name: string, file: string): VendorFile {
  const { dir, version } = packageDir(name);
  return { path: `/vendor/${name}@${version}/${file.split('/').pop()!}`, file: join(dir, file) };
}

/**
 * The pages' third-party files: React 18's and GraphiQL 4's UMD builds (the explorer), and
 * graphql-sse's client (both pages: live answers over server-sent events), global `graphqlSse`.
 */
export const VENDOR = {
  react: vendor('react', 'umd/react.production.min.js'),
  reactDom: vendor('react-dom', 'umd/react-dom.production.min.js'),
  graphiql: vendor('graphiql', 'dist/index.umd.js'),
  graphiqlCss: vendor('graphiql', 'dist/style.css'),
  graphqlSse: vendor('graphql-sse', 'umd/graphql-sse.min.js'),
} as const;

/** The pages' own scripts and styles (gateway/public). */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * The pages' Content-Security-Policy: scripts, styles, fonts and requests only from the
 * gateway, so a page that tried to reach a CDN would fail here first, visibly. GraphiQL sets
 * inline styles and embeds its fonts as data: URLs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Headers of the pages and of every file they load. `frame-ancestors` works only as a header
 * (a `<meta>` CSP ignores it): no other site may frame the explorer or the dashboard to trick
 * a click. `nosniff` keeps a browser from running a file as another type than it was sent as;
 * `no-referrer` keeps the gateway's internal address out of what a link's target sees.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "frame-ancestors 'none'",
};

/** Sets the page headers; `csp` adds the page's own policy to `frame-ancestors`. */
function setPageHeaders(res: express.Response, csp?: string): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
  if (csp) res.setHeader('content-security-policy', `${csp}; ${PAGE_HEADERS['content-security-policy']}`);
}

/**
 * Mounts the vendor files (versioned paths: cached for a year, immutable) and gateway/public
 * under `/static` (revalidated on every load, so an upgrade shows at once), with the page headers.
 */
export function mountWebAssets(app: express.Express): void {
  for (const asset of Object.values(VENDOR)) {
    app.get(asset.path, (_req, res) => {
      setPageHeaders(res);
      res.sendFile(asset.file, { maxAge: '365d', immutable: true });
    });
  }
  app.use(
    '/static',
    (_req, res, next) => {
      setPageHeaders(res);
      next();
    },
    express.static(PUBLIC_DIR, { maxAge: 0, index: false }),
  );
}

/** Sends an HTML page with the page headers and its CSP (the page also carries it in a meta tag). */
export function sendHtml(res: express.Response, html: string): void {
  setPageHeaders(res, CONTENT_SECURITY_POLICY);
  res.setHeader('cache-control', 'no-cache');
  res.type('html').send(html);
}
