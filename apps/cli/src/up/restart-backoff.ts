// How long weft up waits before restarting a child that died: doubling from a first delay up to a cap.

export interface RestartPolicy {
  /** The wait before the first restart. */
  readonly initialDelayMs: number;
  /** The longest wait. */
  readonly maxDelayMs: number;
  /** A child that ran this long before dying starts the doubling over. */
  readonly stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 10_000 };

/** The wait before restart number `failures` (1 for the first) of a run of quick deaths. */
export function restartDelayMs(failures: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
}
