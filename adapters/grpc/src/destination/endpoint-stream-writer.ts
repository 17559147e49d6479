// EndpointStreamWriter: sends a Destination.Get stream: the first message, then only real changes, coalesced when slow.
import type { destination } from '@weft/contracts';
import type { EndpointUpdate } from '@weft/core';
import type { ControlServerStream } from '../control-client/control-server-stream.js';
import { endpointUpdateToWire } from './endpoint-to-wire.js';
import { EndpointStreamState } from './endpoint-stream-state.js';

/**
 * Tracks the truth (what discovery says) and what the client holds (what was sent). While the client reads along,
 * each discovery update is sent as its minimal change; while its buffer is full, updates only move the truth, and
 * once it drains the client gets the difference in one remove and one add. So a slow proxy costs one endpoint set
 * of memory, never a queue of updates, and it never receives an update twice.
 */
export class EndpointStreamWriter {
  private readonly truth = new EndpointStreamState();
  private readonly sent = new EndpointStreamState();

  constructor(private readonly stream: ControlServerStream<destination.Update>) {
    stream.onDrain(() => this.catchUp());
  }

  offer(update: EndpointUpdate): void {
    const changes = this.truth.next(update);
    // Unless blocked, the client holds the truth as it was before this update, so the truth's change is its change.
    if (!this.stream.isBlocked) this.send(changes);
  }

  private catchUp(): void {
    const snapshot = this.truth.snapshot();
    if (snapshot !== undefined) this.send(this.sent.next(snapshot));
  }

  private send(changes: readonly EndpointUpdate[]): void {
    for (const change of changes) {
      this.sent.next(change);
      this.stream.write(endpointUpdateToWire(change));
    }
  }
}
