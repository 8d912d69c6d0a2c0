// Order statistics of one latency series. Nearest-rank quantiles: every figure reported is one
// that was actually measured.

/** Summary of a sample in milliseconds. */
export interface Stats {
  n: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
}

/** The nearest-rank quantile `q` (0..1) of an ascending array. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? NaN;
}

/** Median, quartiles, p90 and extremes of `samples` (NaN for an empty sample). */
export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? NaN,
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    p90: quantile(sorted, 0.9),
    max: sorted.at(-1) ?? NaN,
  };
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  return stats(values).median;
}
