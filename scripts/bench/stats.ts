/** The two statistics the bench scripts report, one definition each. */

/** The p-th percentile of ascending values (nearest rank); NaN when there are none. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** The median of values in any order (the upper one of an even count); NaN when there are none. */
export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
