/**
 * Percentile of `samples` by nearest rank; `NaN` for no samples. Sorts a copy.
 *
 * @example
 * percentile([3, 1, 2], 50); // 2
 */
export function percentile(samples: readonly number[], rank: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/**
 * Arithmetic mean; `NaN` for no values.
 *
 * @example
 * mean([1, 2, 3]); // 2
 */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/**
 * `values` rotated left by `by` positions: round `r` runs the libraries in `rotate(libraries, r)`
 * order so that no library always runs first (cold) or last (after the machine warmed up).
 *
 * @example
 * rotate(['a', 'b', 'c'], 1); // ['b', 'c', 'a']
 */
export function rotate<T>(values: readonly T[], by: number): T[] {
  if (values.length === 0) return [];
  const shift = ((by % values.length) + values.length) % values.length;
  return [...values.slice(shift), ...values.slice(0, shift)];
}
