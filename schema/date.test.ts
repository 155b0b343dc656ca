import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateScalar, isIsoDate, ukDateToIso } from './date.js';

describe('dates', () => {
  it('accepts ISO dates that exist and refuses others', () => {
    expect(isIsoDate('2007-08-17')).toBe(true);
    expect(isIsoDate('2008-02-29')).toBe(true);
    expect(isIsoDate('2007-02-29')).toBe(false);
    expect(isIsoDate('17/08/2007')).toBe(false);
    expect(isIsoDate('2007-8-17')).toBe(false);
  });

  it("reads Fujitsu's UK dates", () => {
    expect(ukDateToIso('17/08/2007')).toBe('2007-08-17');
    expect(ukDateToIso('31/04/2007')).toBeNull();
    expect(ukDateToIso('2007-08-17')).toBeNull();
  });
});

describe('the Date scalar', () => {
  it('passes ISO dates through', () => {
    expect(DateScalar.parseValue('2007-08-17')).toBe('2007-08-17');
    expect(DateScalar.parseLiteral({ kind: Kind.STRING, value: '2009-01-31' })).toBe('2009-01-31');
    expect(DateScalar.serialize('2010-12-31')).toBe('2010-12-31');
  });

  it.each([['17/08/2007'], ['2007-13-01'], [20070817], [null]])('refuses %j with BAD_USER_INPUT', (value) => {
    try {
      DateScalar.parseValue(value);
      expect.unreachable('parseValue accepted a bad date');
    } catch (error) {
      expect((error as { extensions: Record<string, unknown> }).extensions['code']).toBe('BAD_USER_INPUT');
      expect((error as Error).message).toContain(JSON.stringify(value));
    }
  });

  it('refuses a literal that is not a string', () => {
    expect(() => DateScalar.parseLiteral({ kind: Kind.INT, value: '2007' })).toThrow(/yyyy-mm-dd/);
  });
});
