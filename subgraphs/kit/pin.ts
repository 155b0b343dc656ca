import { PIN_HEADER } from '../../schema/wire.js';

/** The header that carries the snapshot pin (schema/wire.ts). */
export { PIN_HEADER };

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The pin a request carries, or null (a direct call answers from the current snapshots). */
export function pinOf(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ISO_INSTANT.test(value) ? value : null;
}
