// Clock port: the current time, so lifetimes, decays and budgets are computed without reading the system clock.
export const Clock = Symbol('Clock');

export interface Clock {
  /** Milliseconds since the Unix epoch. May be fractional; never goes backwards within one clock. */
  now(): number;
}
