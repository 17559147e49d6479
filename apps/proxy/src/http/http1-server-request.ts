// Http1ServerRequest: one request a client sent on an HTTP/1 connection, as llhttp parsed it, with its body as a stream.
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

/** What the proxy reads of a request head, whichever server parsed it (tunnels and policy take this much). */
export interface Http1RequestHead {
  readonly method: string;
  /** The request target as sent (origin form, or authority form for CONNECT). */
  readonly url: string;
  /** Flat [name, value, ...] as received. */
  readonly rawHeaders: readonly string[];
  readonly socket: Socket;
}

/** Head fields the proxy decides on, picked out in the one pass that checks the head. */
export interface RequestHeadFacts {
  readonly host: string | undefined;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly contentType: string | undefined;
}

/** Is told when the connection needs more of the body read, or the body stream has been consumed to its end. */
export interface RequestBodySource {
  /** The consumer wants more: reading may go on. */
  bodyWanted(): void;
}

/**
 * The request body. Chunks are pushed as llhttp hands them over; when the consumer falls behind, the connection stops
 * reading the socket until it asks again. A client that goes away mid-body ends it with an error.
 */
export class RequestBody extends Readable {
  constructor(private readonly source: RequestBodySource) {
    super({ highWaterMark: 64 * 1024 });
    // A client that goes away destroys the body with an error; whoever reads it learns from 'close' or its own pipe.
    this.on('error', ignoreBodyError);
  }

  override _read(): void {
    this.source.bodyWanted();
  }
}

function ignoreBodyError(): void {
  // Reported through the exchange (the request's `complete` stays false), not as an unhandled stream error.
}

/** Fields of which node:http keeps the first value when a request repeats them. */
const SINGLE_VALUED = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

export class Http1ServerRequest implements Http1RequestHead, RequestHeadFacts {
  /** Whether the whole request, body included, has been received. */
  complete = false;
  /** Present for requests that declare a body (Content-Length above 0, or chunked). */
  body: RequestBody | undefined;
  /** An HTTP/1.1 client waits for `100 Continue` before it sends the body. */
  expectsContinue = false;
  private headersRecord: Record<string, string | string[]> | undefined;

  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: readonly string[],
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    /** Whether the client keeps the connection open after this request (llhttp's reading of version and Connection). */
    readonly keepAlive: boolean,
    readonly host: string | undefined,
    readonly contentLength: string | undefined,
    readonly transferEncoding: string | undefined,
    readonly contentType: string | undefined,
  ) {}

  /**
   * The headers as a record of lower-case names, as node:http gives them: repeated fields joined with ", " (cookies
   * with "; "), the first kept of single-valued ones, `set-cookie` as a list. Built on first use only (route policies, taps).
   */
  get headers(): Record<string, string | string[]> {
    if (this.headersRecord !== undefined) return this.headersRecord;
    const record: Record<string, string | string[]> = {};
    for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      const name = (this.rawHeaders[i] as string).toLowerCase();
      const value = this.rawHeaders[i + 1] as string;
      const previous = record[name];
      if (previous === undefined) record[name] = name === 'set-cookie' ? [value] : value;
      else if (name === 'set-cookie') (previous as string[]).push(value);
      else if (name === 'cookie') record[name] = `${previous as string}; ${value}`;
      else if (!SINGLE_VALUED.has(name)) record[name] = `${previous as string}, ${value}`;
    }
    this.headersRecord = record;
    return record;
  }
}
