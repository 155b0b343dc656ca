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

  it('shows the error a broken South feed really gives', () => {
    const shown = /```\n(Feed file fujitsu-south[\s\S]*?)```/.exec(readme)?.[1]?.trim();
    const file = 'fujitsu-south-2007-09-06.csv';
    const good = readFileSync(new URL(`../subgraphs/south/feed/${file}`, import.meta.url), 'utf8');
    expect(() => readFeed(fujitsuFeedFormat, file, Buffer.from(good.replace('22/12/2005', '32/12/2005')), feedReference)).toThrow(shown);
  });
});
