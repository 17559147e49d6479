// ControlBackoff: the jittered, bounded exponential delays between attempts to reach the control plane.
import type { RandomSource } from '@weft/core';

export interface ControlBackoff {
  /** The delay before the first retry, in ms (before jitter). */
  readonly initialMs: number;
  /** The longest delay, in ms; delays never exceed it, jitter included. */
  readonly maxMs: number;
  /** How much of each delay is random, 0 to 1: the delay is drawn from [d * (1 - jitter), d]. */
  readonly jitter: number;
}

/**
 * 250 ms doubling up to 10 s, half of each delay random: a restarted control plane sees its proxies come back
 * spread over seconds rather than all at once, and a proxy never waits more than 10 s for a control plane that is back.
 */
export const DEFAULT_CONTROL_BACKOFF: ControlBackoff = { initialMs: 250, maxMs: 10_000, jitter: 0.5 };

/** The delay before retry number `attempt` (0 for the first retry after a failure). */
export function controlBackoffDelay(attempt: number, backoff: ControlBackoff, random: RandomSource): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, backoff.jitter));
  return ceiling * (1 - jitter * random.next());
}

/** Checks a backoff given by an operator: positive numbers, initial <= max, jitter within 0..1. */
export function controlBackoffProblem(backoff: ControlBackoff): string | undefined {
  const { initialMs, maxMs, jitter } = backoff;
  if (!(Number.isFinite(initialMs) && initialMs > 0)) return `initialMs ${initialMs} is not a positive number of ms, e.g. 250`;
  if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) return `maxMs ${maxMs} is not a number of ms >= initialMs (${initialMs}), e.g. 10000`;
  if (!(jitter >= 0 && jitter <= 1)) return `jitter ${jitter} is not between 0 and 1, e.g. 0.5`;
  return undefined;
}
