import { describe, expect, it } from 'vitest';
import { decodeCallerClaims, MAX_CLAIMS_HEADER_CHARS } from '../schema/caller-claims.js';
import { ANONYMOUS, type Caller } from './caller.js';
import { clientHeaders, HeaderRulesError, parseHeaderRules } from './headers.js';

const headers = (h: Record<string, string>) => clientHeaders(h);
const caller = (claims: Record<string, unknown>): Caller => ({ ...ANONYMOUS, subject: 'u1', claims });

const RULES = JSON.stringify({
  all: {
    request: [
      { propagate: { named: 'Accept-Language' } },
      { propagate: { named: 'x-tenant', rename: 'x-trust', default: 'none' } },
      { propagate: { matching: '^x-nhs-' } },
      { insert: { name: 'x-gateway', value: 'millennium' } },
    ],
  },
  subgraphs: {
    south: {
      request: [{ propagate: { named: 'authorization' } }, { remove: { named: 'x-nhs-debug' } }, { claims: { include: ['sub', 'org'] } }],
    },
    london: { request: [{ remove: { matching: '^x-nhs-' } }] },
  },
});

describe('header propagation rules', () => {
  const rules = parseHeaderRules(RULES);
  const client = headers({
    'accept-language': 'en-GB',
    'x-nhs-trust': 'RJ1',
    'x-nhs-debug': '1',
    authorization: 'Bearer t',
    cookie: 'c=1',
    'content-type': 'application/json',
  });

  it("applies all's rules, then each subgraph's own, in order: named, renamed with a default, matching, inserted, removed", () => {
    expect(rules.forSubgraph('programme').apply(client)).toEqual({
      'accept-language': 'en-GB',
      'x-trust': 'none',
      'x-nhs-trust': 'RJ1',
      'x-nhs-debug': '1',
      'x-gateway': 'millennium',
    });
    expect(rules.forSubgraph('london').apply(client)).toEqual({ 'accept-language': 'en-GB', 'x-trust': 'none', 'x-gateway': 'millennium' });
    expect(rules.forSubgraph('south').apply(headers({ 'x-tenant': 'T1', authorization: 'Bearer t' }))).toEqual({
      'x-trust': 'T1',
      'x-gateway': 'millennium',
      authorization: 'Bearer t',
    });
  });

  it('passes Authorization only where a rule names it, never by a matching rule', () => {
    const greedy = parseHeaderRules(JSON.stringify({ all: { request: [{ propagate: { matching: '.*' } }] } }));
    const sent = greedy.forSubgraph('any').apply(client);
    expect(sent).not.toHaveProperty('authorization');
    expect(sent).not.toHaveProperty('cookie');
    expect(sent).toMatchObject({ 'accept-language': 'en-GB' });
    expect(rules.forSubgraph('programme').apply(client)).not.toHaveProperty('authorization');
    expect(rules.forSubgraph('south').apply(client)).toHaveProperty('authorization', 'Bearer t');
  });

  it('never passes hop-by-hop headers, those the client lists in Connection, or the gateway’s own', () => {
    const greedy = parseHeaderRules(JSON.stringify({ all: { request: [{ propagate: { matching: '.*' } }] } }));
    const sent = greedy.forSubgraph('any').apply(
      headers({
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        te: 'trailers',
        upgrade: 'websocket',
        host: 'gateway',
        'content-length': '12',
        'proxy-authorization': 'Basic x',
        'proxy-foo': '1',
        'x-hop': 'only for this hop',
        'x-caller-claims': 'forged',
        'x-snapshot-pin': 'forged',
        'x-ok': 'yes',
      }),
    );
    expect(sent).toEqual({ 'x-ok': 'yes' });
    const named = parseHeaderRules(JSON.stringify({ all: { request: [{ propagate: { named: 'x-hop', default: 'd' } }] } }));
    expect(named.forSubgraph('any').apply(headers({ connection: 'x-hop', 'x-hop': 'v' }))).toEqual({ 'x-hop': 'd' });
  });

  it('sends the caller’s claims (only those included) where a claims rule says so', () => {
    const sent = rules.forSubgraph('south').apply(client, caller({ sub: 'u1', org: 'RJ1', email: 'a@b' }));
    expect(decodeCallerClaims(sent['x-caller-claims'])).toEqual({ sub: 'u1', org: 'RJ1' });
    expect(rules.forSubgraph('programme').apply(client, caller({ sub: 'u1' }))).not.toHaveProperty('x-caller-claims');
    // Anonymous, or claims too large for a header: nothing.
    expect(rules.forSubgraph('south').apply(client, ANONYMOUS)).not.toHaveProperty('x-caller-claims');
    const all = parseHeaderRules(JSON.stringify({ all: { request: [{ claims: {} }] } }));
    const huge = caller({ sub: 'x'.repeat(MAX_CLAIMS_HEADER_CHARS) });
    expect(all.forSubgraph('s').apply(client, huge)).toEqual({});
  });

  it('keys the response cache by what the subgraphs would receive, never by the token', () => {
    const vary = rules.cacheVary(client)!;
    expect(vary['*']).toMatchObject({ 'accept-language': 'en-GB' });
    expect(vary['south']).not.toHaveProperty('authorization');
    expect(rules.cacheVary(headers({ 'accept-language': 'fr' }))).not.toEqual(vary);
    expect(rules.cacheVary(headers({ ...Object.fromEntries(client), authorization: 'Bearer other' }))).toEqual(vary);
    expect(parseHeaderRules('{}').cacheVary(client)).toBeNull();
  });

  it.each([
    ['not json', 'not JSON'],
    ['[]', 'must be an object'],
    ['{"al":{}}', 'unknown key "al"'],
    ['{"all":{"request":[{"propagate":{"named":"Connection"}}]}}', 'all.request[0].propagate.named: "Connection" is never passed'],
    ['{"all":{"request":[{"propagate":{"named":"x-a","rename":"host"}}]}}', 'all.request[0].propagate.rename: "host" is never passed'],
    ['{"all":{"request":[{"propagate":{"named":"bad name"}}]}}', '"bad name" is not a header name'],
    ['{"all":{"request":[{"propagate":{"matching":"("}}]}}', 'all.request[0].propagate.matching: Invalid regular expression'],
    ['{"subgraphs":{"south":{"request":[{"insert":{"name":"x-a","value":"a\\nb"}}]}}}', 'subgraphs.south.request[0].insert.value'],
    ['{"subgraphs":{"south":{"request":[{"rename":{}}]}}}', 'unknown rule "rename"'],
    ['{"subgraphs":{"south":{"request":[{"propagate":{"named":"x-a","defualt":"1"}}]}}}', 'unknown key "defualt"'],
    ['{"subgraphs":{"a b":{}}}', '"a b" is not a subgraph name'],
    ['{"all":{"request":[{"claims":{"include":"sub"}}]}}', 'all.request[0].claims.include: must be a list'],
  ])('refuses %s, saying where and why', (text, message) => {
    expect(() => parseHeaderRules(text)).toThrow(HeaderRulesError);
    expect(() => parseHeaderRules(text)).toThrow(message);
  });
});
