import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { costLimitRule } from './limits.js';

const schema = buildSchema(`
  type Query { clusters: [Cluster!]! trusts(first: Int): [Trust!]! programme: Programme }
  type Programme { name: String }
  type Cluster { id: ID! trusts: [Trust!]! }
  type Trust { odsCode: ID! cluster: Cluster! }
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

  it('refuses over the limit, naming the setting and the cost', () => {
    const errors = validate(schema, parse('{ clusters { trusts { cluster { trusts { odsCode } } } } }'), [costLimitRule(1000, 10)]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/cost 1211 exceeds the limit of 1000 \(MAX_COST\)/);
    expect(errors[0]!.extensions['code']).toBe('QUERY_TOO_COMPLEX');
  });
});
