// Summaries of timing samples. Every timing is read against a baseline of the same run.

/** The value at quantile `q` (0..1) of `samples`, nearest rank. */
export function quantile(samples, q) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Median, p95 and count of `samples` (ms), rounded for reading. */
export function summarize(samples) {
  const round = (n) => Math.round(n * 1000) / 1000;
  return { n: samples.length, median: round(quantile(samples, 0.5)), p95: round(quantile(samples, 0.95)) };
}

/** `a / b` rounded to two decimals; null when either is missing. */
export function ratio(a, b) {
  return a == null || !b ? null : Math.round((a / b) * 100) / 100;
}
