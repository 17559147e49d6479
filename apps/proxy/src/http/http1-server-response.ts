// Http1ServerResponse: the response to one client request, framed and written straight to the client's socket.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Http1ServerRequest } from './http1-server-request.js';

/** What the response needs of the connection it answers on. */
export interface ResponseConnection {
  readonly socket: Socket;
  /** Whether the connection may carry another request after this response (client, drain and request-count rules). */
  keepAliveAfter(request: Http1ServerRequest): boolean;
  /** Seconds an idle connection is kept, announced in `Keep-Alive: timeout=N`. */
  readonly keepAliveSeconds: number;
  /** The response is written whole: the connection serves the next request or closes. */
  responseFinished(response: Http1ServerResponse): void;
}

/** Hears what happens to the client's side of an exchange. */
export interface ResponseObserver {
  /** The client's connection closed before the response ended. */
  downstreamClosed(): void;
  /** A write that returned false has been flushed. */
  downstreamDrained(): void;
}

type Framing = 'none' | 'length' | 'chunked' | 'close';

export class Http1ServerResponse {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  /** Whether the connection stays open after this response; decided when the head is written. */
  keepAlive = false;
  observer: ResponseObserver | undefined;
  private framing: Framing = 'none';
  /** The head, written with the first body bytes (one write for the usual small response). */
  private pendingHead: string | undefined;
  private trailers: readonly string[] = [];
  private waitingForDrain = false;

  constructor(
    private readonly connection: ResponseConnection,
    readonly request: Http1ServerRequest,
  ) {}

  get destroyed(): boolean {
    return this.connection.socket.destroyed;
  }

  /**
   * Writes the status line and `headers` (flat, without hop-by-hop fields but for a `connection: close` the caller
   * wants): the body is framed by their Content-Length, else chunked (HTTP/1.1 clients), else by closing the
   * connection (HTTP/1.0 clients). HEAD, 1xx, 204 and 304 responses carry no body whatever the headers say.
   */
  writeHead(status: number, headers: readonly string[]): void {
    if (this.headersSent) throw new Error('the response head was already written');
    this.statusCode = status;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    let closeAsked = false;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') hasDate = true;
      else if (name.length === 10 && name.toLowerCase() === 'connection') {
        closeAsked ||= /(?:^|,)\s*close\s*(?:,|$)/i.test(value);
        continue;
      }
      head += `${name}: ${value}\r\n`;
    }
    const request = this.request;
    const bodiless = request.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    const http11 = request.httpVersionMajor === 1 && request.httpVersionMinor === 1;
    if (bodiless) this.framing = 'none';
    else if (hasLength) this.framing = 'length';
    else if (http11) {
      this.framing = 'chunked';
      head += 'Transfer-Encoding: chunked\r\n';
    } else this.framing = 'close';
    this.keepAlive = !closeAsked && this.framing !== 'close' && this.connection.keepAliveAfter(request);
    if (!hasDate) head += `Date: ${httpDate()}\r\n`;
    head += this.keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${this.connection.keepAliveSeconds}\r\n\r\n` : 'Connection: close\r\n\r\n';
    this.pendingHead = head;
    this.headersSent = true;
  }

  /** Writes body bytes; false when the client is behind (the observer hears when to go on). */
  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    const socket = this.connection.socket;
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.framing === 'none' || body.length === 0) {
      if (this.pendingHead !== undefined) this.flushHead();
      return true;
    }
    socket.cork();
    if (this.pendingHead !== undefined) this.flushHead();
    if (this.framing === 'chunked') {
      socket.write(`${body.length.toString(16)}\r\n`, 'latin1');
      socket.write(body);
      socket.write('\r\n', 'latin1');
    } else {
      socket.write(body);
    }
    socket.uncork();
    if (!socket.writableNeedDrain) return true;
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      socket.once('drain', () => this.drained());
    }
    return false;
  }

  /** Trailer fields (flat), sent after a chunked body; other framings have nowhere to put them. */
  addTrailers(trailers: readonly string[]): void {
    this.trailers = trailers;
  }

  end(chunk?: Buffer | string): void {
    if (this.writableEnded) return;
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    if (chunk !== undefined) this.write(chunk);
    this.writableEnded = true;
    if (this.destroyed) return;
    const socket = this.connection.socket;
    if (this.pendingHead !== undefined) this.flushHead();
    if (this.framing === 'chunked') {
      let end = '0\r\n';
      for (let i = 0; i + 1 < this.trailers.length; i += 2) end += `${this.trailers[i]}: ${this.trailers[i + 1]}\r\n`;
      socket.write(`${end}\r\n`, 'latin1');
    }
    this.connection.responseFinished(this);
  }

  /** Cuts the client's connection (the only signal left once a head is out). */
  destroy(): void {
    this.connection.socket.destroy();
  }

  private flushHead(): void {
    this.connection.socket.write(this.pendingHead as string, 'latin1');
    this.pendingHead = undefined;
  }

  private drained(): void {
    this.waitingForDrain = false;
    if (!this.writableEnded) this.observer?.downstreamDrained();
  }
}

let cachedDate = '';
let cachedDateSecond = -1;

/** The current time as an HTTP date, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}
