// Turns SIGTERM and SIGINT into a graceful shutdown; a third signal exits at once without waiting for the drain.
import type { Subscription } from '@weft/core';
import type { ShutdownReason, ShutdownSummary } from './graceful-shutdown.js';

export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** The part of `process` this needs, so a test can send signals with an EventEmitter. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
  off(signal: ShutdownSignal, listener: () => void): unknown;
}

export type ShutdownSignalEvent =
  | { readonly event: 'shutdown-signal'; readonly signal: ShutdownSignal; readonly count: 1 }
  | { readonly event: 'shutdown-signal-ignored'; readonly signal: ShutdownSignal; readonly count: 2 }
  | { readonly event: 'shutdown-forced-exit'; readonly signal: ShutdownSignal; readonly count: number; readonly exitCode: number };

export interface ShutdownSignalOptions {
  readonly source: SignalSource;
  readonly shutdown: { begin(reason: ShutdownReason): Promise<ShutdownSummary> };
  /** Ends the process at once; process.exit in production. */
  readonly exit: (code: number) => void;
  readonly log?: (event: ShutdownSignalEvent) => void;
}

// The shell's convention: 128 + the signal's number.
const exitCodes: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Listens for SIGTERM and SIGINT, counting both together:
 * - the first starts the graceful shutdown (or joins one that POST /shutdown already started);
 * - the second is logged and ignored, so an impatient Ctrl-C does not restart or cut the drain;
 * - the third exits at once with 128 + the signal's number, leaving the OS to close what is still open.
 * Closing the subscription removes the listeners.
 */
export function handleShutdownSignals(options: ShutdownSignalOptions): Subscription {
  const { source, shutdown, exit, log = () => undefined } = options;
  let count = 0;
  const onSignal = (signal: ShutdownSignal): void => {
    count += 1;
    if (count === 1) {
      log({ event: 'shutdown-signal', signal, count });
      void shutdown.begin(signal);
    } else if (count === 2) {
      log({ event: 'shutdown-signal-ignored', signal, count });
    } else {
      log({ event: 'shutdown-forced-exit', signal, count, exitCode: exitCodes[signal] });
      exit(exitCodes[signal]);
    }
  };
  const onTerm = (): void => onSignal('SIGTERM');
  const onInt = (): void => onSignal('SIGINT');
  source.on('SIGTERM', onTerm);
  source.on('SIGINT', onInt);
  return {
    close: () => {
      source.off('SIGTERM', onTerm);
      source.off('SIGINT', onInt);
    },
  };
}
