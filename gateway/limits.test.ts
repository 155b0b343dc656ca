import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { costLimitRule } from './limits.js';

const schema = buildSchema(`
  type Query { clusters: [Cluster!]! trusts(first: Int): [Trust!]! programme: Programme }
  type Programme { name: String }
  type Cluster { id: ID! trusts: [Trust!]! }
  type Trust { odsCode: ID! cluster: Cluster! }
  type Subscription { clusterChanged: Cluster! }
`);

function cost(query: string, listSize = 10): number {
  const errors = validate(schema, parse(query), [costLimitRule(0, listSize)]);
  return Number(errors[0]?.extensions['cost']);
}

describe('costLimitRule', () => {
  it('counts list sizes: each field costs 1 times the lists around it', () => {
    expect(cost('{ programme { name } }')).toBe(2);
    // clusters (1) + 10 ids + 10 trusts fields + 100 odsCodes
    expect(cost('{ clusters { id trusts { odsCode } } }')).toBe(121);
  });

  it('uses a first/last/limit argument as the list size, and COST_LIST_SIZE otherwise', () => {
    expect(cost('{ trusts(first: 2) { odsCode } }')).toBe(3);
    expect(cost('{ trusts { odsCode } }', 50)).toBe(51);
  });

  it('counts fragments, and ignores __typename', () => {
    expect(cost('{ clusters { ...C __typename } } fragment C on Cluster { id }')).toBe(11);
  });

  it('estimates each fragment once: fragments spreading the next one twice are not walked 2^n times', () => {
    const n = 20;
    const fragments = Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ');
    const bomb = `query Bomb { ...F0 } ${fragments} fragment F${n} on Query { programme { name } }`;
    const getType = vi.spyOn(schema, 'getType');
    try {
      // 2^n copies of programme { name }, 2 each: the estimate is still exact.
      expect(cost(bomb)).toBe(2 ** (n + 1));
      // One type lookup per fragment and field, not one per expanded copy (2^n).
      expect(getType.mock.calls.length).toBeLessThan(10 * n);
    } finally {
      getType.mockRestore();
    }
  });

  it('refuses over the limit, naming the setting and the cost', () => {
    const errors = validate(schema, parse('{ clusters { trusts { cluster { trusts { odsCode } } } } }'), [costLimitRule(1000, 10)]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/cost 1211 exceeds the limit of 1000 \(MAX_COST\)/);
    expect(errors[0]!.extensions['code']).toBe('QUERY_TOO_COMPLEX');
  });

  it('costs a subscription as a query: its root and the lists under it', () => {
    expect(cost('subscription { clusterChanged { id trusts { odsCode } } }')).toBe(13);
  });
});
