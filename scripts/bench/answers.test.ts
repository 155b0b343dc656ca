import { describe, expect, it } from 'vitest';
import { answerDifference, readAnswer } from './answers.js';

const read = (value: unknown) => readAnswer(200, JSON.stringify(value));

describe('the benchmark answer comparison', () => {
  it('ignores extensions, at the top and in errors, and key order', () => {
    const plain = read({ data: { a: 1, b: [1, 2] }, errors: [{ message: 'x', path: ['a'], extensions: { code: 'A' } }] });
    const other = read({
      errors: [{ path: ['a'], message: 'x', extensions: { code: 'B', serviceName: 's' } }],
      data: { b: [1, 2], a: 1 },
      extensions: { cache: { status: 'HIT' } },
    });
    expect(answerDifference(plain, other)).toBeNull();
  });

  it('names where data differs, and list order counts', () => {
    const plain = read({ data: { topProducts: [{ upc: '1' }, { upc: '2' }] } });
    expect(answerDifference(plain, read({ data: { topProducts: [{ upc: '2' }, { upc: '1' }] } }))).toMatch(
      /data differs at \.topProducts\[0\]\.upc/,
    );
    expect(answerDifference(plain, read({ data: { topProducts: [{ upc: '1' }, { upc: '2', name: null }] } }))).toMatch(/\[1\]\.name/);
  });

  it('counts an error that only one side gives, or a different message', () => {
    const plain = read({ data: { a: 1 } });
    expect(answerDifference(plain, read({ data: { a: 1 }, errors: [{ message: 'boom' }] }))).toMatch(/errors differ/);
    expect(answerDifference(read({ errors: [{ message: 'a' }] }), read({ errors: [{ message: 'b' }] }))).toMatch(/errors differ/);
  });

  it('keeps a body that is not JSON as a difference instead of throwing', () => {
    expect(answerDifference(read({ data: { a: 1 } }), readAnswer(502, '<html>bad gateway</html>'))).toMatch(/not JSON/);
  });
});
