// Small numeric helpers shared by the child measurements and the report.

/** Nearest-rank percentile of an ascending-sorted array (p in 0..1). */
export const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p))) - 1]);

export const sortedCopy = (values) => Float64Array.from(values).sort();

/** Median with min and max across repetitions; non-finite values are dropped. */
export function summarize(values) {
  const sorted = sortedCopy(values.filter(Number.isFinite));
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), n: sorted.length };
}

export const mb = (bytes) => bytes / (1024 * 1024);
