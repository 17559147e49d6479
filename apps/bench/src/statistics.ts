// Small statistics for repeated runs: the median, and ratios or differences against a reference contender.

/** The median of the finite values (mean of the middle two for an even count); undefined when there are none. */
export function median(values: readonly number[]): number | undefined {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** value / reference, or undefined when either is missing or the reference is zero. */
export function ratio(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) {
    return undefined;
  }
  return value / reference;
}

/** value - reference (e.g. added latency over direct), or undefined when either is missing. */
export function difference(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference)) return undefined;
  return value - reference;
}
