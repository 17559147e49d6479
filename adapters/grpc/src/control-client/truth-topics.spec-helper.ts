// TruthTopics: listeners per key for the tests' sources of truth; first message at once, then each publication.
import type { Subscription } from '@weft/core';

export class TruthTopics<M> {
  private readonly listeners = new Map<string, Set<(message: M) => void>>();

  subscribe(key: string, first: M, listener: (message: M) => void): Subscription {
    const wrapped = (message: M): void => listener(message);
    const set = this.listeners.get(key) ?? new Set();
    this.listeners.set(key, set.add(wrapped));
    wrapped(first);
    return {
      close: () => {
        set.delete(wrapped);
        if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
      },
    };
  }

  publish(key: string, ...messages: M[]): void {
    for (const message of messages) for (const listener of [...(this.listeners.get(key) ?? [])]) listener(message);
  }

  count(key: string): number {
    return this.listeners.get(key)?.size ?? 0;
  }

  /** Subscriptions open on every key together. */
  total(): number {
    return [...this.listeners.values()].reduce((sum, set) => sum + set.size, 0);
  }
}
