// Writes one Observe call's events off the data path, with a bounded queue that ends a slow client's stream.
import { type ServerWritableStream, status } from '@grpc/grpc-js';
import type { tap } from '@weft/contracts';
import type { TapEventSink } from './tap-observation.js';

/** Why a call's stream ended. */
export type TapCallEnd = 'completed' | 'cancelled' | 'slow-consumer' | 'failed' | 'shutdown';

export type TapObserveCall = ServerWritableStream<tap.ObserveRequest, tap.TapEvent>;

export class TapCallWriter implements TapEventSink {
  private queue: tap.TapEvent[] = [];
  private flushScheduled = false;
  private waitingForDrain = false;
  private completing = false;
  private ended = false;

  /**
   * `queueCap` bounds the events waiting for this client, in our queue and in grpc-js's write buffer
   * together; `onEnd` is called once, whatever ends the stream.
   */
  constructor(
    private readonly call: TapObserveCall,
    private readonly queueCap: number,
    private readonly onEnd: (reason: TapCallEnd) => void,
  ) {
    call.on('cancelled', () => this.finish('cancelled'));
    call.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  send(event: tap.TapEvent): void {
    if (this.ended) return;
    if (this.queue.length + this.call.writableLength >= this.queueCap) {
      this.fail(
        'slow-consumer',
        status.RESOURCE_EXHAUSTED,
        `the tap client read too slowly: ${this.queueCap} events were waiting, so this stream was ended; observe with a narrower match`,
      );
      return;
    }
    this.queue.push(event);
    this.scheduleFlush();
  }

  complete(): void {
    if (this.ended) return;
    this.completing = true;
    this.scheduleFlush();
  }

  abort(): void {
    this.fail('failed', status.INTERNAL, 'the proxy could not report a request; observe again');
  }

  /** Ends the stream with an error status; queued events are dropped. */
  fail(reason: Exclude<TapCallEnd, 'completed'>, code: status, details: string): void {
    if (this.ended) return;
    this.finish(reason);
    // grpc-js sends the status after what it has already buffered (at most about a high-water mark of events).
    this.call.emit('error', { code, details });
  }

  // Writes happen on a later turn of the event loop, so that publishing never waits for serialization.
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.ended) return;
    let written = 0;
    while (!this.waitingForDrain && written < this.queue.length) {
      if (!this.call.write(this.queue[written] as tap.TapEvent)) this.waitingForDrain = true;
      written += 1;
    }
    this.queue = written === this.queue.length ? [] : this.queue.slice(written);
    if (this.completing && this.queue.length === 0) {
      this.finish('completed');
      this.call.end();
    }
  }

  private finish(reason: TapCallEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.onEnd(reason);
  }
}
