/** Every example in README.md returns exactly what the README says it returns. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { readFeed } from '../subgraphs/kit/feed-format.js';
import { feedReference } from '../subgraphs/programme/reference.js';
import { fujitsuFeedFormat } from '../subgraphs/south/feed-format.js';
import { post, startTestStack } from './helpers.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g)].map((m) => ({
  name: /query (\w+)/.exec(m[1]!)?.[1] ?? m[1]!.slice(0, 40),
  query: m[1]!,
  answer: JSON.parse(m[2]!) as unknown,
}));

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

describe('README examples', () => {
  it('has examples to check', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('$name returns the answer the README shows', async ({ query, answer }) => {
    const response = await post(stack.gatewayUrl, query);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual(answer);
  });

  // `curl … -d '<body>'` followed by `# <answer>`: the answers the shell examples show.
  const curls = [
    ...readme.matchAll(/curl -s http:\/\/127\.0\.0\.1:4000\/graphql -H 'content-type: application\/json' \\\n\s+-d '(.+)'\n# (\{.+\})\n/g),
  ].map((m) => ({ body: m[1]!, answer: JSON.parse(m[2]!) as { extensions?: { cache?: unknown } } }));

  it('has shell examples with their answers', () => {
    expect(curls.length).toBeGreaterThanOrEqual(2);
  });

  it.each(curls)('curl -d $body answers what the README shows', async ({ body, answer }) => {
    const response = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const got = (await response.json()) as { extensions?: { cache?: unknown } };
    // Whether the response cache already held it depends on what ran before; the rest is exact.
    const withoutCache = (r: { extensions?: { cache?: unknown } }) => ({ ...r, extensions: { ...r.extensions, cache: undefined } });
    expect(withoutCache(got)).toEqual(withoutCache(answer));
  });

  it('shows the error a broken South feed really gives', () => {
    const shown = /```\n(Feed file fujitsu-south[\s\S]*?)```/.exec(readme)?.[1]?.trim();
    const file = 'fujitsu-south-2007-09-06.csv';
    const good = readFileSync(new URL(`../subgraphs/south/feed/${file}`, import.meta.url), 'utf8');
    expect(() => readFeed(fujitsuFeedFormat, file, Buffer.from(good.replace('22/12/2005', '32/12/2005')), feedReference)).toThrow(shown);
  });
});
