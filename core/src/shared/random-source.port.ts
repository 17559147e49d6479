// RandomSource port: uniform numbers in [0, 1), so balancing and jitter are repeatable in tests.
export const RandomSource = Symbol('RandomSource');

export interface RandomSource {
  /** A number drawn uniformly from [0, 1). */
  next(): number;
}
