// KeyedPublisher: delivers messages per key to the listeners subscribed to that key, in order, even when re-entered.
import type { Subscription } from './subscription.js';

interface Watch<M> {
  readonly listener: (message: M) => void;
  open: boolean;
}

interface Delivery<M> {
  readonly watches: readonly Watch<M>[];
  readonly message: M;
}

/**
 * A subscriber gets its first message synchronously, before subscribe returns, then every message published to
 * its key, before publish returns. Messages published by a listener while others are being delivered are queued
 * behind them, so every subscriber sees them in the order they were published. A listener that throws does not
 * stop delivery to the others; once all are served, publish throws its error (an AggregateError when several
 * threw), or, when the publisher was made with `onListenerError`, hands each error to it instead (an adapter that
 * publishes from a file watch has no caller to throw to). A subscription closed during a delivery gets nothing
 * more, even from that delivery.
 */
export class KeyedPublisher<K, M> {
  private readonly watches = new Map<K, Set<Watch<M>>>();
  private readonly queue: Delivery<M>[] = [];
  private delivering = false;

  /** `topic` names what is published in the AggregateError message, e.g. 'endpoint' gives "2 endpoint listeners". */
  constructor(
    private readonly topic: string,
    private readonly onListenerError?: (error: unknown) => void,
  ) {}

  /** Sends `first` to `listener`, then subscribes it to `key`; a listener that throws on `first` is not subscribed. */
  subscribe(key: K, first: M, listener: (message: M) => void): Subscription {
    listener(first);
    const watch: Watch<M> = { listener, open: true };
    const watches = this.watches.get(key) ?? new Set<Watch<M>>();
    this.watches.set(key, watches.add(watch));
    return {
      close: () => {
        watch.open = false;
        watches.delete(watch);
        if (watches.size === 0 && this.watches.get(key) === watches) this.watches.delete(key);
      },
    };
  }

  /** Sends each message, in order, to the subscribers `key` has now. */
  publish(key: K, ...messages: M[]): void {
    const watches = [...(this.watches.get(key) ?? [])];
    for (const message of messages) this.queue.push({ watches, message });
    // A listener publishing from inside a delivery only queues: the outermost publish delivers, and reports.
    if (this.delivering) return;
    const errors = this.deliverQueued();
    if (this.onListenerError !== undefined) {
      for (const error of errors) this.onListenerError(error);
      return;
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, `${errors.length} ${this.topic} listeners of ${String(key)} threw`);
    }
  }

  /** The keys that have subscribers now. */
  keys(): K[] {
    return [...this.watches.keys()];
  }

  /** How many open subscriptions `key` has. */
  watcherCount(key: K): number {
    return this.watches.get(key)?.size ?? 0;
  }

  private deliverQueued(): unknown[] {
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let delivery = this.queue.shift(); delivery; delivery = this.queue.shift()) {
        for (const watch of delivery.watches) {
          if (!watch.open) continue;
          try {
            watch.listener(delivery.message);
          } catch (error) {
            errors.push(error);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
    return errors;
  }
}
