import { describe, expect, it } from 'vitest';
import { answersPlainJson } from './http-status.js';

describe('answersPlainJson', () => {
  it.each([
    ['application/json', true],
    ['application/json, application/graphql-response+json', true],
    ['application/graphql-response+json;q=0.9, application/json', true],
    ['application/graphql-response+json, application/json', false],
    ['application/graphql-response+json', false],
    ['*/*', false],
    ['text/html', false],
    [undefined, false],
  ])('Accept: %s → %s', (accept, expected) => {
    expect(answersPlainJson(accept)).toBe(expected);
  });
});
