/** Analysts read the schema in an explorer: every type, field and argument is described. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { query, startTestStack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

interface Described {
  name: string;
  description: string | null;
}
interface IntrospectedType extends Described {
  kind: string;
  fields: (Described & { args: Described[] })[] | null;
  enumValues: Described[] | null;
  inputFields: Described[] | null;
}

describe('the supergraph as analysts see it', () => {
  it('describes every type, field, argument and enum value', async () => {
    const data = await query<{ __schema: { types: IntrospectedType[] } }>(
      stack.gatewayUrl,
      `{
      __schema { types { kind name description
        fields { name description args { name description } }
        enumValues { name description }
        inputFields { name description } } }
    }`,
    );
    const ours = data.__schema.types.filter(
      (t) => !t.name.startsWith('__') && !['String', 'Int', 'Float', 'Boolean', 'ID'].includes(t.name),
    );
    const missing: string[] = [];
    for (const type of ours) {
      if (!type.description) missing.push(type.name);
      for (const field of type.fields ?? []) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
      for (const value of type.enumValues ?? []) if (!value.description) missing.push(`${type.name}.${value.name}`);
      for (const field of type.inputFields ?? []) if (!field.description) missing.push(`${type.name}.${field.name}`);
    }
    expect(ours.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
