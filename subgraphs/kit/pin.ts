/**
 * The snapshot pin: the gateway stamps every subgraph fetch of one operation with the
 * operation's start, and cluster subgraphs answer from the snapshots visible then, so a
 * reload between two fetches of one operation cannot mix snapshots in its response.
 */
export const PIN_HEADER = 'x-snapshot-pin';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The pin a request carries, or null (a direct call answers from the current snapshots). */
export function pinOf(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ISO_INSTANT.test(value) ? value : null;
}
