import { describe, expect, it } from 'vitest';
import { servedSdlMismatch } from './served-sdl.js';

const SERVED = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query {
  "All widgets."
  widgets: [Widget!]!
}
"A widget."
type Widget @key(fields: "id") {
  id: ID!
  size: Int
}
`;

describe('the SDL posted against the SDL served', () => {
  it('finds no difference in order, spacing, comments or descriptions', () => {
    const reordered = `# a comment
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Widget @key(fields: "id") { id: ID!   size: Int }
type Query { "Every widget there is." widgets: [Widget!]! }
`;
    expect(servedSdlMismatch(reordered, SERVED)).toBeNull();
  });

  it('names the first definition that differs, and how', () => {
    expect(servedSdlMismatch(SERVED.replace('size: Int', 'size: String'), SERVED)).toBe(
      'type Widget differs: posted "size: String", served "size: Int"',
    );
    expect(servedSdlMismatch(`${SERVED}type Gadget { id: ID! }\n`, SERVED)).toBe('type Gadget is in the SDL posted but not served');
    expect(servedSdlMismatch(SERVED, `${SERVED}enum Colour { RED }\n`)).toBe('enum Colour is served but not in the SDL posted');
  });
});
