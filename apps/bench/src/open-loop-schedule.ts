// The open-loop schedule: request i is due at start + i/rate, whatever happened to earlier requests (no coordinated omission).

/** When request `index` is meant to be sent, in the same clock as `startMs`. */
export function intendedSendTimeMs(startMs: number, index: number, rate: number): number {
  return startMs + (index * 1_000) / rate;
}

/** How many requests (of `total`) are due by `nowMs`: all those whose intended time has come. */
export function requestsDueBy(startMs: number, nowMs: number, rate: number, total: number): number {
  if (nowMs < startMs) return 0;
  return Math.min(total, Math.floor(((nowMs - startMs) * rate) / 1_000) + 1);
}

/** Requests in warm-up plus measured time at `rate` per second. */
export function scheduledRequestCount(rate: number, warmupMs: number, durationMs: number): number {
  return Math.round((rate * (warmupMs + durationMs)) / 1_000);
}
