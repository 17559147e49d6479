// changeWriteOffsetMs: when each change of the endpoint-propagation run is written, spread over the phases of the control plane's file poll.

/** The golden ratio's fractional part: i * this, mod 1, spreads any number of points evenly over [0, 1). */
const GOLDEN_FRACTION = (Math.sqrt(5) - 1) / 2;

/**
 * When the change with 0-based `index` is written, in ms after the first one: `index * spacingMs`, plus a shift of
 * up to `phaseSpreadMs` that differs from change to change. The file adapter also polls the file every second; with
 * writes exactly one second apart every change would meet the poll at the same phase, so any effect of the poll on
 * the delay would hit all changes or none. Spread evenly over the poll interval, the changes meet it at every phase,
 * as edits made at any moment do.
 */
export function changeWriteOffsetMs(index: number, spacingMs: number, phaseSpreadMs: number): number {
  const fraction = (index * GOLDEN_FRACTION) % 1;
  return index * spacingMs + fraction * phaseSpreadMs;
}
