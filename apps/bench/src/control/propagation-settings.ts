// The endpoint-propagation scenario's bounds (subscribers, changes, spacing, time limits), full or --quick, and the watch timings it includes.
import type { BenchOptions } from '../bench-options.js';

/**
 * How weft-control watches its mesh file: FileMeshSource's defaults, which it keeps (it sets none of them). Part of
 * every measured delay: a change event starts a `debounceMs` wait before the file is read; polling every
 * `pollIntervalMs` is the fallback when an event is missed; `settleMs` only delays reporting an invalid file, never
 * applying a valid one. The spec checks these against a FileMeshSource built with no options.
 */
export const MESH_FILE_WATCH_DEFAULTS = { debounceMs: 100, pollIntervalMs: 1_000, settleMs: 300 } as const;

export interface PropagationSettings {
  /** Proxy-side subscriptions, each with its own ControlChannel (its own HTTP/2 connection), as that many proxies would hold. */
  readonly subscribers: number;
  /** Measured endpoint changes. */
  readonly changes: number;
  /** Changes applied first and not measured, so the control plane's diff and send code is compiled. */
  readonly warmupChanges: number;
  /** Mean time from one change's write to the next one's, so changes never overlap (many times the watch debounce). */
  readonly spacingMs: number;
  /** Each write is shifted by up to this much (changeWriteOffsetMs), so the writes meet the file poll at every phase. */
  readonly phaseSpreadMs: number;
  /** How long every subscriber may take to get its first message. */
  readonly firstMessageTimeoutMs: number;
  /** How long a change may take to reach every subscriber; one that never arrives counts as missed. */
  readonly changeTimeoutMs: number;
}

/** Bounds for a run with `options`: a full run makes 20 measured changes, --quick 5; both with 100 subscribers. */
export function propagationSettings(options: Pick<BenchOptions, 'quick'>): PropagationSettings {
  return {
    subscribers: 100,
    changes: options.quick ? 5 : 20,
    warmupChanges: options.quick ? 1 : 2,
    spacingMs: 1_000,
    phaseSpreadMs: MESH_FILE_WATCH_DEFAULTS.pollIntervalMs,
    firstMessageTimeoutMs: 20_000,
    changeTimeoutMs: 5_000,
  };
}

/** The helper's time limit: every change at its spacing or its timeout, the first messages, plus slack for start-up. */
export function propagationHelperTimeoutMs(settings: PropagationSettings): number {
  const changes = settings.warmupChanges + settings.changes;
  return settings.firstMessageTimeoutMs + changes * (settings.spacingMs + settings.changeTimeoutMs) + settings.phaseSpreadMs + 30_000;
}
