import { GraphQLError, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SubgraphResilience, unavailableAnswer } from './resilience.js';

const CONFIG = { timeoutMs: 200, timeoutsMs: {}, retries: 2, retryDelayMs: 1, breakerFailures: 100, breakerResetMs: 1000 };
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('SubgraphResilience', () => {
  it('retries a failed query with backoff, but never a mutation', async () => {
    const policies = new SubgraphResilience('london', CONFIG);
    let attempts = 0;
    await expect(policies.run(true, async () => (attempts++, Promise.reject(refused())))).rejects.toThrow(/ECONNREFUSED/);
    expect(attempts).toBe(3);
    attempts = 0;
    await expect(policies.run(false, async () => (attempts++, Promise.reject(refused())))).rejects.toThrow(/ECONNREFUSED/);
    expect(attempts).toBe(1);
  });

  it('does not retry an answer the subgraph gave (a 400), nor count it against the subgraph', async () => {
    const policies = new SubgraphResilience('london', { ...CONFIG, breakerFailures: 1 });
    let attempts = 0;
    const badRequest = new GraphQLError('400: Bad Request', { extensions: { response: { status: 400 } } });
    await expect(policies.run(true, async () => (attempts++, Promise.reject(badRequest)))).rejects.toBe(badRequest);
    expect(attempts).toBe(1);
    expect(policies.state).toBe('closed');
  });

  it('aborts an attempt at the timeout', async () => {
    const policies = new SubgraphResilience('london', { ...CONFIG, retries: 0 });
    let aborted = false;
    await expect(
      policies.run(
        true,
        (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))))),
      ),
    ).rejects.toThrow(/timed out|cancel/i);
    expect(aborted).toBe(true);
  });

  it('leaves the signal of an attempt that returned unaborted (an abort builds a DOMException per fetch)', async () => {
    const policies = new SubgraphResilience('london', CONFIG);
    let seen: AbortSignal | undefined;
    await expect(policies.run(true, async (signal) => ((seen = signal), 'answer'))).resolves.toBe('answer');
    expect(seen?.aborted).toBe(false);
  });

  it("uses the subgraph's own timeout when it has one", async () => {
    const policies = new SubgraphResilience('london', { ...CONFIG, retries: 0, timeoutMs: 5000, timeoutsMs: { london: 50 } });
    const started = Date.now();
    await expect(
      policies.run(true, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('opens after consecutive failures, refuses at once, and lets a trial through after the reset time', async () => {
    const states: string[] = [];
    const policies = new SubgraphResilience('london', { ...CONFIG, retries: 0, breakerFailures: 2, breakerResetMs: 50 }, (s) =>
      states.push(s),
    );
    for (let i = 0; i < 2; i++) await expect(policies.run(true, () => Promise.reject(refused()))).rejects.toThrow();
    expect(policies.state).toBe('open');
    let called = false;
    await expect(policies.run(true, async () => (called = true))).rejects.toThrow(/circuit/i);
    expect(called).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    await expect(policies.run(true, async () => 'ok')).resolves.toBe('ok');
    expect(policies.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });
});

describe('unavailableAnswer', () => {
  it("answers each entity with its fields null and one error per field, a hidden field's on its entity", () => {
    const query =
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Release { l: london { localName } londonSnapshots { asOf } } } }';
    const answer = unavailableAnswer(
      'london',
      'unreachable',
      {
        query,
        variables: {
          representations: [
            { __typename: 'Release', code: 'R0' },
            { __typename: 'Release', code: 'R2' },
          ],
        },
      },
      new Set(['Release.londonSnapshots']),
      parse(query),
    );
    expect(answer.data).toEqual({
      _entities: [
        { __typename: 'Release', l: null, londonSnapshots: null },
        { __typename: 'Release', l: null, londonSnapshots: null },
      ],
    });
    expect(answer.errors.map((e) => e.path)).toEqual([
      ['_entities', 0, 'l'],
      ['_entities', 0],
      ['_entities', 1, 'l'],
      ['_entities', 1],
    ]);
    expect(answer.errors[0]!.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'london', reason: 'unreachable' });
  });

  it('answers each aliased list of a batch of entity fetches from its own representations', () => {
    const query =
      'query($representations0: [_Any!]!, $representations1: [_Any!]!) { _0: _entities(representations: $representations0) { ... on Release { london { localName } } } _1: _entities(representations: $representations1) { ... on Trust { londonName } } }';
    const answer = unavailableAnswer(
      'london',
      'timeout',
      {
        query,
        variables: {
          representations0: [{ __typename: 'Release', code: 'R0' }],
          representations1: [
            { __typename: 'Trust', odsCode: 'A' },
            { __typename: 'Trust', odsCode: 'B' },
          ],
        },
      },
      new Set(),
    );
    expect(answer.data).toEqual({
      _0: [{ __typename: 'Release', london: null }],
      _1: [
        { __typename: 'Trust', londonName: null },
        { __typename: 'Trust', londonName: null },
      ],
    });
    expect(answer.errors.map((e) => e.path)).toEqual([
      ['_0', 0, 'london'],
      ['_1', 0, 'londonName'],
      ['_1', 1, 'londonName'],
    ]);
  });

  it('puts a root fetch’s error on each of its root fields', () => {
    const answer = unavailableAnswer('programme', 'timeout', { query: '{ releases { code } c: clusters { id } }' }, new Set());
    expect(answer.data).toBeNull();
    expect(answer.errors.map((e) => e.path)).toEqual([['releases'], ['c']]);
  });
});
