/** The README's links to its own sections lead somewhere, after sections moved or were renamed. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

describe('README links', () => {
  const headings = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].filter((m) => !m[0].startsWith('# {')).map((m) => slug(m[1]!)));
  const anchors = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  const files = [...readme.matchAll(/\]\((?!#|https?:)([^)]+)\)/g)].map((m) => m[1]!);

  it('has a contents list', () => {
    expect(anchors.length).toBeGreaterThan(10);
  });

  it.each(anchors)('#%s is a heading of the README', (anchor) => {
    expect(headings.has(anchor), `no heading has the anchor #${anchor}`).toBe(true);
  });

  it.each(files)('%s exists', (file) => {
    expect(existsSync(new URL(`../${file}`, import.meta.url))).toBe(true);
  });
});
