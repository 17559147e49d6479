// WholeStateWriter: sends whole-state messages (profiles, policies) on a server stream: never twice, latest first.
import { status } from '@grpc/grpc-js';
import type { Result } from '@weft/core';
import type { ControlServerStream } from './control-server-stream.js';
import type { InvalidWireMessageError } from './invalid-wire-message-error.js';
import { sameValue } from './same-value.js';

/**
 * The first value is always sent; after that a value equal to the last one sent is not. While the client's buffer is
 * full only the latest value is kept, and sent when it drains, so a slow client costs one message of memory. A value
 * that cannot be put on the wire ends the stream with FAILED_PRECONDITION naming the field: the client keeps the
 * state it has, logs the reason, and tries again later.
 */
export class WholeStateWriter<T, W> {
  private sent: { readonly value: T } | undefined;
  private pending: { readonly value: T } | undefined;

  constructor(
    private readonly stream: ControlServerStream<W>,
    private readonly toWire: (value: T) => Result<W, InvalidWireMessageError>,
  ) {
    stream.onDrain(() => this.flush());
  }

  offer(value: T): void {
    this.pending = { value };
    if (!this.stream.isBlocked) this.flush();
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined || this.stream.isEnded) return;
    if (this.sent !== undefined && sameValue(this.sent.value, pending.value)) return;
    const wire = this.toWire(pending.value);
    if (!wire.ok) {
      this.stream.fail('failed', status.FAILED_PRECONDITION, `the control plane cannot send this state: ${wire.error.toString()}`);
      return;
    }
    this.sent = pending;
    this.stream.write(wire.value);
  }
}
