// Readiness: the proxy is ready when every named start-up condition is met and it is not shutting down.
import type { Subscription } from '@weft/core';

/** Condition names the proxy uses; other modules may add their own. */
export const READINESS_CONDITIONS = { listeners: 'listeners', identity: 'identity' } as const;

export class Readiness {
  private readonly met = new Map<string, boolean>();
  private readonly listeners = new Set<(ready: boolean) => void>();
  private shuttingDown = false;
  private last: boolean;

  /** Starts with every named condition unmet; with no condition the proxy is ready at once. */
  constructor(conditions: Iterable<string> = []) {
    for (const name of conditions) this.met.set(name, false);
    this.last = this.isReady();
  }

  /** Adds a condition that must be met before the proxy is ready; a known name keeps its state. */
  require(name: string): void {
    if (!this.met.has(name)) this.set(name, false);
  }

  markMet(name: string): void {
    this.set(this.known(name), true);
  }

  markUnmet(name: string): void {
    this.set(this.known(name), false);
  }

  /** Not ready from now on, whatever the conditions say: load balancers and probes stop sending traffic. */
  markShuttingDown(): void {
    this.shuttingDown = true;
    this.notify();
  }

  isReady(): boolean {
    return !this.shuttingDown && [...this.met.values()].every(Boolean);
  }

  /** The conditions still unmet, in the order they were added, and "shutting down" once that started. */
  unmet(): readonly string[] {
    const names = [...this.met].filter(([, met]) => !met).map(([name]) => name);
    return this.shuttingDown ? [...names, 'shutting down'] : names;
  }

  /** Calls the listener each time the proxy becomes ready or stops being ready. */
  watch(listener: (ready: boolean) => void): Subscription {
    this.listeners.add(listener);
    return { close: () => this.listeners.delete(listener) };
  }

  private set(name: string, met: boolean): void {
    this.met.set(name, met);
    this.notify();
  }

  // A typo in a condition name would hold the proxy unready (or ready) for ever, so it fails loudly.
  private known(name: string): string {
    if (!this.met.has(name)) {
      const known = [...this.met.keys()].join(', ') || 'none';
      throw new RangeError(`Readiness: unknown condition "${name}" (known: ${known}); call require("${name}") first`);
    }
    return name;
  }

  private notify(): void {
    const ready = this.isReady();
    if (ready === this.last) return;
    this.last = ready;
    for (const listener of [...this.listeners]) listener(ready);
  }
}
