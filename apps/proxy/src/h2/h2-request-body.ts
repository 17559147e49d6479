// H2RequestBody: a request stream's body, streamed to the current attempt with backpressure and kept for a replay.
import type { Writable } from 'node:stream';

/** The readable side of a received stream (ServerHttp2Stream), as far as the body needs it. */
export interface BodySource {
  /** Set once the stream closed; a code other than NO_ERROR means the client reset it. */
  readonly rstCode?: number;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/**
 * Reads the body only while an attempt is attached, so a client outpacing the upstream waits on HTTP/2 flow control.
 * While `retaining`, every chunk is also kept, up to `limit` bytes, so a retry can send the body again: the kept part
 * first, then whatever is still to come. Past the limit (or after `release`) nothing is kept and no replay is possible.
 */
export class H2RequestBody {
  private sink: Writable | undefined;
  private retained: Buffer[] = [];
  private retainedBytes = 0;
  private retaining: boolean;
  private sourceEnded = false;

  constructor(
    private readonly source: BodySource,
    private readonly limit: number,
    retain: boolean,
  ) {
    this.retaining = retain;
    source.pause();
    source.on('data', (chunk) => this.onData(chunk));
    source.once('end', () => {
      // Node also ends the readable side when the client resets the stream; a cut body must not look complete.
      if (source.rstCode !== undefined && source.rstCode !== 0) return;
      this.sourceEnded = true;
      this.sink?.end();
    });
  }

  /** Whether the whole body so far is kept, so another attempt can start from its first byte. */
  get replayable(): boolean {
    return this.retaining;
  }

  /** Whether the client's END_STREAM arrived (the body is whole). */
  get ended(): boolean {
    return this.sourceEnded;
  }

  /** Sends the body to `sink` (a new attempt's stream): the kept bytes, then the rest as it arrives, then the end. */
  attach(sink: Writable): void {
    this.detach();
    this.sink = sink;
    for (const chunk of this.retained) sink.write(chunk);
    if (this.sourceEnded) {
      sink.end();
      return;
    }
    this.source.resume();
  }

  /** Stops feeding the current attempt; the client's body waits (paused) for the next one. */
  detach(): void {
    if (this.sink === undefined) return;
    this.sink = undefined;
    this.source.pause();
  }

  /** No replay will be needed (the response is committed): forget the kept bytes. */
  release(): void {
    this.retaining = false;
    this.retained = [];
    this.retainedBytes = 0;
  }

  /** After the exchange: whatever the client still sends is read and dropped, so its flow-control window stays open. */
  discard(): void {
    this.detach();
    this.release();
    this.source.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.retaining) {
      this.retainedBytes += chunk.length;
      if (this.retainedBytes <= this.limit) this.retained.push(chunk);
      else this.release();
    }
    const sink = this.sink;
    if (sink === undefined || sink.writableEnded || sink.destroyed) return;
    if (!sink.write(chunk)) {
      this.source.pause();
      // A listener of its own (see PER_REQUEST_FUNCTIONS in http/forward-exchange.ts); a sink detached meanwhile resumes nothing.
      sink.once('drain', () => {
        if (this.sink === sink) this.source.resume();
      });
    }
  }
}
