// ControlServerStream: one server-streaming call of the control plane, with backpressure, cancellation and ending.
import { type ServerWritableStream, status } from '@grpc/grpc-js';
import type { Subscription } from '@weft/core';

/** Why a served stream ended: the client left, the control plane shut down, or the stream failed. */
export type ControlStreamEnd = 'cancelled' | 'shutdown' | 'failed';

/**
 * Wraps a grpc-js server stream. write() reports backpressure; `onDrain` runs when the client has read enough to
 * take more. `onEnd` runs once, whatever ends the stream, so the caller frees what it holds for the stream.
 */
export class ControlServerStream<W> {
  private ended = false;
  private blocked = false;
  private drainHandler: () => void = () => undefined;
  private watch: Subscription | undefined;

  constructor(
    private readonly call: ServerWritableStream<unknown, W>,
    private readonly onEnd: (reason: ControlStreamEnd) => void,
  ) {
    call.on('cancelled', () => this.finish('cancelled'));
    // A write after the client left surfaces here; the stream is over either way.
    call.on('error', () => this.finish('cancelled'));
    call.on('drain', () => {
      this.blocked = false;
      if (!this.ended) this.drainHandler();
    });
  }

  /** Ends the stream as cancelled if the client already left: grpc-js does not repeat 'cancelled' for a client gone before the handler ran. */
  endIfClientGone(): void {
    if (this.call.cancelled) this.finish('cancelled');
  }

  /** True while the client's buffer is full: hold messages back until onDrain. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Ties the watch that feeds the stream to it: closed when the stream ends, or at once if it already has. */
  holdWatch(subscription: Subscription): void {
    if (this.ended) subscription.close();
    else this.watch = subscription;
  }

  /** Runs `handler` each time a full buffer has drained. */
  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  write(message: W): void {
    if (this.ended) return;
    if (!this.call.write(message)) this.blocked = true;
  }

  /** Ends the stream with an error status; the client keeps what it has and reconnects. */
  fail(reason: Exclude<ControlStreamEnd, 'cancelled'>, code: status, details: string): void {
    if (this.ended) return;
    this.finish(reason);
    this.call.emit('error', { code, details });
  }

  private finish(reason: ControlStreamEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.watch?.close();
    this.watch = undefined;
    this.onEnd(reason);
  }
}

/** What shutdown needs of an open stream. */
type OpenStream = Pick<ControlServerStream<unknown>, 'fail'>;

/** The streams a service has open, so that shutdown can end them all and tests can count them. */
export class ControlServerStreams {
  private readonly open = new Set<OpenStream>();
  private closed = false;

  get isClosed(): boolean {
    return this.closed;
  }

  get size(): number {
    return this.open.size;
  }

  add(stream: OpenStream): void {
    this.open.add(stream);
  }

  delete(stream: OpenStream): void {
    this.open.delete(stream);
  }

  /** Ends every open stream with UNAVAILABLE; streams started later are refused the same way. */
  shutdown(details: string): void {
    this.closed = true;
    for (const stream of [...this.open]) stream.fail('shutdown', status.UNAVAILABLE, details);
  }
}
