// Timing rules the scenarios and the report share: wrk's whole seconds and the idle wait before reading idle RSS.
import type { BenchOptions } from './bench-options.js';

/** wrk takes whole seconds: the measured run lasts at least one, a warm-up under half a second is skipped. */
export function wrkSeconds(ms: number, atLeastOne: boolean): number {
  return Math.max(atLeastOne ? 1 : 0, Math.round(ms / 1_000));
}

/** How long a freshly started proxy sits idle before its idle RSS is read. */
export function idleSettleMs(options: Pick<BenchOptions, 'quick'>): number {
  return options.quick ? 100 : 1_000;
}
