/**
 * The few statistics the bench and the soak report: one definition of each,
 * so that a p99 in one report is a p99 in the other.
 */

/** The middle value; the mean of the two middle ones for an even count. NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The nearest-rank percentile: the smallest value with at least p % of the values at or below it. NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
