import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtInSdls, clusterSubgraphSdl } from '../../test/built-ins.js';
import { withContract } from '../../schema/contract.js';
import { nmeSubgraph } from '../../test/fixtures/nme/index.js';
import { checkSubgraph, type CheckInput } from './checks.js';

const NME_SDL = readFileSync(new URL('../../test/fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const FULL_SDL = clusterSubgraphSdl(nmeSubgraph);
const IMPORTS = 'import: ["@key", "@external", "@requires", "@shareable", "@tag", "@inaccessible", "@requiresScopes", "@authenticated"]';
const input = (sdl: string): CheckInput => ({ name: 'nme', sdl, url: null, published: [], builtIns: builtInSdls(), operations: [] });
/** The full SDL a supplier's own service would report, with its own `@link` imports. */
const fullWith = (imports: string, extra: string) => {
  expect(FULL_SDL).toContain(IMPORTS);
  return `${FULL_SDL.replace(IMPORTS, `import: ["@key", "@external", "@requires", "@shareable", "@tag", "@inaccessible", "@requiresScopes", "@authenticated", ${imports}]`)}\n${extra}\n`;
};
const codes = async (sdl: string) => (await checkSubgraph(input(sdl))).report;

describe('ownership: a subgraph takes nothing from another', () => {
  it.each([
    [
      '@federation__override on a kit-completed SDL',
      `${NME_SDL}\nextend type Query { release(code: ID!): Release @federation__override(from: "programme") }\n`,
    ],
    [
      '@override imported through its own @link',
      fullWith('"@override"', 'extend type Query { release(code: ID!): Release @override(from: "programme") }'),
    ],
    [
      '@override imported as @takeover',
      fullWith('{ name: "@override", as: "@takeover" }', 'extend type Query { release(code: ID!): Release @takeover(from: "programme") }'),
    ],
  ])("refuses the programme's root field Query.release taken with %s", async (_how, sdl) => {
    const report = await codes(sdl);
    expect(report.ok).toBe(false);
    expect(report.contract).toContainEqual(
      expect.objectContaining({ code: 'CONTRACT_OVERRIDE', message: expect.stringContaining('Query.release applies @') }),
    );
    expect(report.contract).toContainEqual(
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('Query.release belongs to subgraph "programme"'),
      }),
    );
  });

  it('refuses any @override, even of a field of its own, and a root field redefined without one', async () => {
    const own = await codes(`${NME_SDL}\nextend type Release { nmeNote: String @federation__override(from: "south") }\n`);
    expect(own.contract.map((i) => i.code)).toEqual(['CONTRACT_OVERRIDE']);
    const shadow = await codes(`${NME_SDL}\nextend type Query { release(code: ID!): Release @shareable }\n`);
    expect(shadow.ok).toBe(false);
    expect(shadow.contract).toContainEqual(
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('Query.release belongs to subgraph "programme"'),
      }),
    );
    // A root type of another name is still the query root.
    const renamed = await codes(`${NME_SDL}\nschema { query: Root }\ntype Root { release(code: ID!): Release @shareable }\n`);
    expect(renamed.contract).toContainEqual(
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('Query.release belongs to subgraph "programme"'),
      }),
    );
    // Insights' own fields are owned too: the comparison, the feeds.
    const feeds = await codes(`${NME_SDL}\nextend type Query { feeds: [FeedStatus!]! @shareable }\n`);
    expect(feeds.contract).toContainEqual(
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('Query.feeds belongs to subgraph "insights"'),
      }),
    );
  });

  it("refuses another cluster's FeedStatus, a field it has or a new one, and names the field's line", async () => {
    const sdl = `${NME_SDL}\ntype SouthFeedStatus @key(fields: "id") {\n  id: ID!\n  loadedAt: DateTime @federation__override(from: "south")\n  lag: Int\n}\n`;
    const report = await codes(sdl);
    expect(report.ok).toBe(false);
    const owned = report.contract.filter((i) => i.code === 'CONTRACT_FIELD_OWNED').map((i) => i.message);
    expect(owned).toEqual([
      expect.stringContaining('SouthFeedStatus.id belongs to subgraph "south"'),
      expect.stringContaining('SouthFeedStatus.loadedAt belongs to subgraph "south"'),
      expect.stringContaining('SouthFeedStatus.lag is on type SouthFeedStatus, which belongs to subgraph "south"'),
    ]);
    const lag = report.contract.find((i) => i.message.startsWith('SouthFeedStatus.lag'));
    expect(lag?.locations?.[0]?.line).toBe(sdl.split('\n').findIndex((l) => l.includes('lag: Int')) + 1);
  });

  it("refuses fields added to another subgraph's interface through @interfaceObject", async () => {
    const catalogue = withContract(
      'extend type Query { "Products." products: [Product!]! }\n' +
        '"A product." interface Product @key(fields: "id") { "Id." id: ID! }\n' +
        '"A drug." type Drug implements Product @key(fields: "id") { "Id." id: ID! "Name." name: String }\n',
    );
    const published = [
      {
        name: 'catalogue',
        url: 'http://c/graphql',
        sdl: catalogue,
        version: 1,
        publishedAt: '2026-01-01T00:00:00.000Z',
        publishedBy: 'CERNER',
      },
    ];
    const sdl = `${NME_SDL}\ntype Product @key(fields: "id") @federation__interfaceObject { id: ID! nmePrice: Int }\n`;
    const { report } = await checkSubgraph({ ...input(sdl), published });
    expect(report.contract).toContainEqual(
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('Product.nmePrice is on type Product, which belongs to subgraph "catalogue"'),
      }),
    );
  });

  it("refuses values added to another subgraph's enum or the contract's, and allows repeating them", async () => {
    const programme = await codes(
      `${NME_SDL}\nenum SupplierRole { LOCAL_SERVICE_PROVIDER SYSTEM_SUPPLIER MIDDLEMAN }\nextend type Query { "Role." nmeRole: SupplierRole }\n`,
    );
    expect(programme.ok).toBe(false);
    expect(programme.contract).toEqual([
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('SupplierRole.MIDDLEMAN is added to SupplierRole, which belongs to subgraph "programme"'),
      }),
    ]);
    // A full SDL carries the contract itself, so it could widen the contract's enums.
    const widened = FULL_SDL.replace(/(enum RolloutStatus \{[^}]*)\}/, '$1  "Made up." HIJACKED\n}');
    expect(widened).toContain('HIJACKED');
    const contract = await codes(widened);
    expect(contract.ok).toBe(false);
    expect(contract.contract).toContainEqual(
      expect.objectContaining({
        message: expect.stringContaining('RolloutStatus.HIJACKED is added to RolloutStatus, which belongs to the contract'),
      }),
    );
    const repeated = await codes(
      `${NME_SDL}\nenum SupplierRole { LOCAL_SERVICE_PROVIDER SYSTEM_SUPPLIER }\nextend type Query { "Role." nmeRole: SupplierRole }\n`,
    );
    expect(repeated.contract).toEqual([]);
    expect(repeated.ok).toBe(true);
  });

  it("allows what is shared by design: the contract's keys and types, @external fields, root fields of its own", async () => {
    const sdl =
      `${NME_SDL}\nextend type Query { "NME's releases." nmeReleases: [Release!]! }\n` +
      'extend type Release {\n  name: String! @external\n  "Name and NME name." nmeLabel: String @requires(fields: "name")\n}\n';
    const report = await codes(sdl);
    expect(report.contract).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
