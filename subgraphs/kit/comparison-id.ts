/** The key of `ReleaseComparison`, shared by the programme and insights subgraphs. */

/** The id of a comparison: `R2`, or `R2@2007-06-01` when compared as of a day. */
export const comparisonId = (code: string, asOf: string | null | undefined) => (asOf ? `${code}@${asOf}` : code);

/** The release code and day of a comparison id. */
export function parseComparisonId(id: string): { code: string; asOf: string | null } {
  const at = id.indexOf('@');
  return at < 0 ? { code: id, asOf: null } : { code: id.slice(0, at), asOf: id.slice(at + 1) };
}
