import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Services bind ephemeral ports on 127.0.0.1; files run in parallel workers.
    pool: 'forks',
    // Through Vite like our code, so it shares our copy of graphql (Node would load another).
    server: { deps: { inline: ['@graphql-inspector/core'] } },
  },
});
