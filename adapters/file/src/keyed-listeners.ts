// KeyedListeners: the listeners of each watched key, fed in order even when a listener changes them while being called.
import type { Subscription } from '@weft/core';

interface Watch<M> {
  readonly listener: (message: M) => void;
  open: boolean;
}

/**
 * A subscriber gets its first message before subscribe returns, then each message published to its key. Messages
 * published from inside a listener are queued behind the current ones, so every subscriber sees one order. A
 * listener that throws does not stop delivery to the others; its error goes to `onListenerError`. A subscription
 * closed during a delivery gets nothing more.
 */
export class KeyedListeners<M> {
  private readonly watches = new Map<string, Set<Watch<M>>>();
  private readonly queue: { readonly watches: readonly Watch<M>[]; readonly message: M }[] = [];
  private delivering = false;

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  subscribe(key: string, first: M, listener: (message: M) => void): Subscription {
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

  /** The keys that have subscribers now. */
  keys(): string[] {
    return [...this.watches.keys()];
  }

  watcherCount(key: string): number {
    return this.watches.get(key)?.size ?? 0;
  }

  publish(key: string, messages: readonly M[]): void {
    const watches = [...(this.watches.get(key) ?? [])];
    for (const message of messages) this.queue.push({ watches, message });
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let delivery = this.queue.shift(); delivery; delivery = this.queue.shift()) {
        for (const watch of delivery.watches) {
          if (!watch.open) continue;
          try {
            watch.listener(delivery.message);
          } catch (error) {
            this.onListenerError(error);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }
}
