// A test handler for HTTP/1 upstream connections: records what reaches it, in order, and settles when the exchange ends.
import type { UpstreamConnectionControl, UpstreamHandler, UpstreamRequest } from './http1-upstream-connection.js';
import type { Http1UpstreamPool } from './http1-upstream-pool.js';

export interface RecorderHooks {
  onConnect?: (control: UpstreamConnectionControl) => void;
  onHeaders?: () => boolean;
  onData?: (chunk: Buffer) => boolean;
  onComplete?: () => void;
}

export class Recorder implements UpstreamHandler {
  /** What reached the handler, in order: `connect`, `headers 200`, `data <text>`, `complete`, `error <code>`. */
  readonly events: string[] = [];
  control: UpstreamConnectionControl | undefined;
  status: number | undefined;
  headers: string[] | undefined;
  readonly chunks: Buffer[] = [];
  trailers: string[] | null | undefined;
  error: (Error & { code?: string }) | undefined;
  readonly settled: Promise<void>;
  private settle: () => void = () => undefined;

  constructor(private readonly hooks: RecorderHooks = {}) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  onConnect(control: UpstreamConnectionControl): void {
    this.events.push('connect');
    this.control = control;
    this.hooks.onConnect?.(control);
  }

  onHeaders(status: number, rawHeaders: string[]): boolean {
    this.events.push(`headers ${status}`);
    this.status = status;
    this.headers = rawHeaders;
    return this.hooks.onHeaders?.() ?? true;
  }

  onData(chunk: Buffer): boolean {
    this.events.push(`data ${chunk.toString('latin1')}`);
    this.chunks.push(chunk);
    return this.hooks.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.events.push('complete');
    this.trailers = trailers;
    this.hooks.onComplete?.();
    this.settle();
  }

  onError(error: Error & { code?: string }): void {
    this.events.push(`error ${error.code ?? error.message}`);
    this.error = error;
    this.settle();
  }

  body(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

export interface RecordedUpstreamResponse {
  readonly status: number | undefined;
  /** Flat [name, value, ...] as the endpoint sent them. */
  readonly headers: string[] | undefined;
  readonly body: string;
  readonly trailers: string[] | null | undefined;
}

/** Sends `request` (a GET without body unless told) through `pool`; the whole response, or the error the exchange ended with. */
export async function sendUpstream(pool: Http1UpstreamPool, request: Partial<UpstreamRequest> & Pick<UpstreamRequest, 'path'>): Promise<RecordedUpstreamResponse> {
  const recorder = new Recorder();
  pool.dispatch({ method: 'GET', headers: [], body: null, ...request }, recorder);
  await recorder.settled;
  if (recorder.error !== undefined) throw recorder.error;
  return { status: recorder.status, headers: recorder.headers, body: recorder.body(), trailers: recorder.trailers };
}
