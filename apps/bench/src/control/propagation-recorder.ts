// PropagationRecorder: when each change was written and when each subscriber first held it, read from the updates its listener gets.
import type { EndpointUpdate } from '@weft/core';
import { changeOfMarkerPort } from './propagation-mesh-file.js';

/**
 * Times come from one clock (the caller's `performance.now()`), in milliseconds. Change 0 is the initial file, which
 * a subscriber gets in its first message; changes 1..`changes` are the edits. A subscriber holds change k from the
 * first `reset` or `add` that carries change k's moving instance (markerPort(k)), whatever else came before it.
 */
export class PropagationRecorder {
  private readonly writtenAt: (number | undefined)[];
  /** [change][subscriber] -> when the subscriber first held it. */
  private readonly heldAt: (number | undefined)[][];
  private readonly firstAt: (number | undefined)[];
  private readonly wrongFirst: string[] = [];

  constructor(
    readonly subscribers: number,
    readonly changes: number,
  ) {
    this.writtenAt = Array.from({ length: changes + 1 }, () => undefined);
    this.heldAt = Array.from({ length: changes + 1 }, () => Array.from({ length: subscribers }, () => undefined));
    this.firstAt = Array.from({ length: subscribers }, () => undefined);
  }

  /** The moment change `change`'s file was put in place. */
  written(change: number, nowMs: number): void {
    this.writtenAt[change] = nowMs;
  }

  /** An update that subscriber `subscriber`'s listener got at `nowMs`. */
  received(subscriber: number, update: EndpointUpdate, nowMs: number): void {
    if (this.firstAt[subscriber] === undefined) {
      this.firstAt[subscriber] = nowMs;
      if (update.kind !== 'reset') this.wrongFirst.push(`subscriber ${subscriber} got ${update.kind} first`);
    }
    if (update.kind !== 'reset' && update.kind !== 'add') return;
    for (const endpoint of update.endpoints) {
      const change = changeOfMarkerPort(endpoint.address.port);
      const held = change === undefined ? undefined : this.heldAt[change];
      if (held !== undefined && held[subscriber] === undefined) held[subscriber] = nowMs;
    }
  }

  /** How many subscribers have had their first message. */
  get withFirstMessage(): number {
    return this.firstAt.filter((at) => at !== undefined).length;
  }

  /** What was wrong with first messages: each subscriber whose first message was not a `reset`. */
  get firstMessageProblems(): readonly string[] {
    return this.wrongFirst;
  }

  /** How many subscribers hold change `change`. */
  holding(change: number): number {
    return (this.heldAt[change] ?? []).filter((at) => at !== undefined).length;
  }

  /** Each subscriber's delay from the write of `change` to holding it, in ms; null when it never did (or it was not written). */
  delaysMs(change: number): (number | null)[] {
    const written = this.writtenAt[change];
    return (this.heldAt[change] ?? []).map((at) => (at === undefined || written === undefined ? null : at - written));
  }
}
