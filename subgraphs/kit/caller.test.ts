import { describe, expect, it } from 'vitest';
import { encodeCallerClaims } from '../../schema/caller-claims.js';
import { callerOf } from './caller.js';

describe('the caller a kit subgraph sees', () => {
  it('reads the claims the gateway sent, and nothing from a missing or malformed header', () => {
    const header = encodeCallerClaims({ sub: 'alice', org: 'RJ1', scope: 'programme:notes' })!;
    expect(callerOf({ 'x-caller-claims': header })).toEqual({
      subject: 'alice',
      claims: { sub: 'alice', org: 'RJ1', scope: 'programme:notes' },
    });
    expect(callerOf({})).toBeNull();
    expect(callerOf({ 'x-caller-claims': 'not base64url!' })).toBeNull();
    expect(callerOf({ 'x-caller-claims': Buffer.from('[1,2]').toString('base64url') })).toBeNull();
    expect(callerOf({ 'x-caller-claims': 'A'.repeat(5000) })).toBeNull();
    expect(callerOf({ 'x-caller-claims': encodeCallerClaims({ org: 'RJ1' })! })).toEqual({ subject: null, claims: { org: 'RJ1' } });
  });
});
