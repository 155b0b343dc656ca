import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { ErrorCode, GraphQLErrorWithCode } from './errors.js';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `value` is an ISO `yyyy-mm-dd` string naming a day that exists. */
export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

// Arithmetic, not Date objects: feeds check hundreds of thousands of dates.
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Turns a UK `dd/mm/yyyy` date (as Fujitsu's feed writes it) into ISO `yyyy-mm-dd`,
 * or returns null when it is not one.
 */
export function ukDateToIso(value: string): string | null {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value);
  if (!match) return null;
  const iso = `${match[3]}-${match[2]}-${match[1]}`;
  return isIsoDate(iso) ? iso : null;
}

function refuse(value: unknown): never {
  throw new GraphQLErrorWithCode(
    `Date must be an ISO date "yyyy-mm-dd" naming a real day; got ${JSON.stringify(value)}`,
    ErrorCode.BAD_USER_INPUT,
  );
}

function coerce(value: unknown): string {
  if (typeof value !== 'string' || !isIsoDate(value)) refuse(value);
  return value;
}

/** The contract's `Date` scalar: ISO `yyyy-mm-dd`, anything else is `BAD_USER_INPUT`. */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date in ISO 8601 form, yyyy-mm-dd.',
  serialize: coerce,
  parseValue: coerce,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING) refuse(ast.kind === Kind.INT || ast.kind === Kind.FLOAT ? ast.value : ast.kind);
    return coerce(ast.value);
  },
});
