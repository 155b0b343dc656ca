import { defineConfig } from 'vitest/config';

/** The files that drive Chromium: only a run that includes them needs (or installs) a browser. */
const BROWSER_TESTS = ['test/explorer.e2e.test.ts', 'test/dashboard.e2e.test.ts', 'test/join.e2e.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Services bind ephemeral ports on 127.0.0.1; files run in parallel workers.
    pool: 'forks',
    // Logs (feed acceptances, JSON access logs) are shown for failing tests only; `--silent=false` shows all.
    silent: 'passed-only',
    // Through Vite like our code, so it shares our copy of graphql (Node would load another).
    server: { deps: { inline: ['@graphql-inspector/core'] } },
    projects: [
      // (`extends` concatenates arrays, so each project names its own files.)
      // Never the folders tools fill on demand: the bench's peers, the audit's checkout, build output.
      {
        extends: true,
        test: {
          name: 'node',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', '.bench-peers/**', '.audit/**', 'dist/**', ...BROWSER_TESTS],
        },
      },
      // A project's global setup runs only when the run has files of it.
      { extends: true, test: { name: 'chromium', include: BROWSER_TESTS, globalSetup: ['test/setup/chromium.ts'] } },
    ],
  },
});
