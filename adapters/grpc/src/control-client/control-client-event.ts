// ControlClientEvent: the structured log events of the proxy's control-plane clients, one per line when logged.
import type { ControlCallLabels } from './control-client-metrics.js';
import type { InvalidWireMessageError } from './invalid-wire-message-error.js';

/** Which watch an event is about: the call labels and the watched key, e.g. "web.shop.svc.cluster.local:8080". */
export interface ControlWatchRef extends ControlCallLabels {
  readonly target: string;
}

export type ControlClientEvent =
  /** A stream broke or ended; the watch keeps its last known state and tries again after `retryInMs`. */
  | {
      readonly event: 'control-stream-failed';
      readonly watch: ControlWatchRef;
      readonly reason: string;
      readonly details: string;
      /** Failed attempts in a row, this one included: a log sink may keep the first and every tenth. */
      readonly attempts: number;
      readonly retryInMs: number;
      /** True while the watch serves state the control plane has not confirmed since the stream broke. */
      readonly stale: boolean;
    }
  /** A stream delivered its first message after one or more failed attempts or a broken stream. */
  | { readonly event: 'control-stream-restored'; readonly watch: ControlWatchRef; readonly attempts: number; readonly staleForMs: number }
  /** A message was refused; whole-state streams skip it, endpoint streams are restarted to get a fresh set. */
  | { readonly event: 'control-message-refused'; readonly watch: ControlWatchRef; readonly error: InvalidWireMessageError }
  /**
   * The last known state outlived its time to live with no word from the control plane. With listeners, they got the
   * state that replaces it (`replacement`); without, it was forgotten.
   */
  | {
      readonly event: 'control-state-expired';
      readonly watch: ControlWatchRef;
      readonly ttlMs: number;
      readonly listeners: number;
      readonly replacement: string;
    }
  /** A listener threw; the other listeners were still served. */
  | { readonly event: 'control-listener-failed'; readonly watch: ControlWatchRef; readonly error: unknown };

export type ControlClientLog = (event: ControlClientEvent) => void;
