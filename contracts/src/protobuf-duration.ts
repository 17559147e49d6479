// Conversions between google.protobuf.Duration and the milliseconds that Weft's core uses for time spans.
import type { Duration } from './gen/google/protobuf/duration.js';

const nanosPerMilli = 1_000_000;
const nanosPerSecond = 1_000_000_000;

/**
 * The Duration for a span in milliseconds; fractions of a millisecond are kept to the nanosecond.
 * Seconds and nanos carry the same sign, as the well-known type requires. Throws RangeError for NaN or Infinity.
 */
export function durationFromMillis(ms: number): Duration {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot express ${ms} ms as a protobuf Duration; pass a finite number`);
  let seconds = Math.trunc(ms / 1_000);
  let nanos = Math.round((ms - seconds * 1_000) * nanosPerMilli);
  if (Math.abs(nanos) >= nanosPerSecond) {
    seconds += Math.sign(nanos);
    nanos -= Math.sign(nanos) * nanosPerSecond;
  }
  return { seconds: BigInt(seconds), nanos: nanos === 0 ? 0 : nanos };
}

/** The span of a Duration in milliseconds, with fractions below one millisecond kept. */
export function millisFromDuration(duration: Duration): number {
  return Number(duration.seconds) * 1_000 + duration.nanos / nanosPerMilli;
}
