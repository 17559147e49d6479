// Http1Server over real loopback sockets: a raw client writes exact request bytes and reads the exact response bytes.
import type { SocketAddress } from '@weft/core';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoopbackPeers, patternBytes } from '../transport/loopback-peers.spec-helper.js';
import { DEFAULT_HTTP1_SERVER_LIMITS, Http1Server, type Http1ServerHandlers, type Http1ServerLimits, rejectUnsafeFraming } from './hardened-http1-server.js';
import type { Http1ServerRequest } from './http1-server-request.js';
import type { Http1ServerResponse } from './http1-server-response.js';

// ----- a raw client: writes exact bytes, keeps every byte it receives -----

class RawClient {
  /** Every byte received, as latin1 text. */
  text = '';
  bytes = 0;
  /** The server's FIN arrived (or the connection closed). */
  ended = false;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      this.text += chunk.toString('latin1');
    });
    socket.on('end', () => (this.ended = true));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.closed = true;
    });
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Waits until the received bytes satisfy `done`. */
  async until(done: (text: string) => boolean, timeout = 2_000): Promise<string> {
    await vi.waitFor(() => expect(done(this.text), `received so far: ${JSON.stringify(this.text)}`).toBe(true), { timeout, interval: 5 });
    return this.text;
  }

  /** Waits for `count` whole responses framed by Content-Length (or with no body), counted by their status lines. */
  responses(count: number): Promise<string> {
    return this.until((text) => statusLines(text).length >= count && lastResponseWhole(text));
  }

  async serverEnd(timeout = 2_000): Promise<void> {
    await vi.waitFor(() => expect(this.ended, `received: ${JSON.stringify(this.text)}`).toBe(true), { timeout, interval: 5 });
  }
}

/** The response head's Date line, the only field that changes from run to run. */
const DATE_LINE = /Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/g;
const withoutDate = (text: string): string => text.replace(DATE_LINE, '');
const statusLines = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3} [^\r]*\r\n/g) ?? [];
/** Whether the last response in `text` is whole: its head, and as many body bytes as its Content-Length says. */
function lastResponseWhole(text: string): boolean {
  const lastHead = text.lastIndexOf('HTTP/1.1 ');
  const headEnd = text.indexOf('\r\n\r\n', lastHead);
  if (headEnd < 0) return false;
  const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(text.slice(lastHead, headEnd + 2));
  return text.length >= headEnd + 4 + Number(length?.[1] ?? 0);
}

const KEEP_ALIVE = 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n';

/** Handlers that record what reached them; `request` answers per test. */
interface Recorded {
  readonly requests: Http1ServerRequest[];
  readonly tunnels: { request: Http1ServerRequest; socket: Socket; head: Buffer }[];
}

type RequestHandler = (req: Http1ServerRequest, res: Http1ServerResponse) => void;

const answerOk: RequestHandler = (_req, res) => {
  res.writeHead(200, ['content-length', '2']);
  res.end('ok');
};

describe('Http1Server', () => {
  const peers = new LoopbackPeers();
  const servers: Http1Server[] = [];

  afterEach(async () => {
    for (const server of servers.splice(0)) server.close();
    await peers.closeAll();
  });

  /**
   * An Http1Server behind a loopback listener (allowHalfOpen). Each accepted socket is handed over with no pre-read
   * bytes, or with `preRead`, with its first chunk as protocol detection would.
   */
  async function serve(
    request: RequestHandler = answerOk,
    options: { limits?: Http1ServerLimits; tunnel?: Http1ServerHandlers['tunnel']; preRead?: boolean } = {},
  ): Promise<{ address: SocketAddress; server: Http1Server; recorded: Recorded }> {
    const recorded: Recorded = { requests: [], tunnels: [] };
    const server = new Http1Server(options.limits ?? DEFAULT_HTTP1_SERVER_LIMITS, {
      request: (req, res) => {
        recorded.requests.push(req);
        request(req, res);
      },
      tunnel: (req, socket, head) => {
        recorded.tunnels.push({ request: req, socket, head });
        if (options.tunnel !== undefined) options.tunnel(req, socket, head);
        else socket.destroy();
      },
    });
    servers.push(server);
    const address = await peers.server((socket) => {
      if (options.preRead !== true) {
        server.handle(socket, Buffer.alloc(0));
        return;
      }
      // What protocol detection would do: read the first bytes, then hand them over with the paused socket.
      socket.once('data', (first: Buffer) => {
        socket.pause();
        server.handle(socket, first);
      });
    });
    return { address, server, recorded };
  }

  async function client(address: SocketAddress): Promise<RawClient> {
    return new RawClient(await peers.connect(address));
  }

  const urls = (recorded: Recorded): string[] => recorded.requests.map((req) => `${req.method} ${req.url}`);

  describe('responses and keep-alive', () => {
    it('answers a keep-alive GET with its headers, Connection: keep-alive, Keep-Alive: timeout=5 and a Date, then a second request', async () => {
      const { address, recorded } = await serve((req, res) => {
        const date = req.url === '/two' ? ['date', 'Thu, 01 Jan 2026 00:00:00 GMT'] : [];
        res.writeHead(200, ['content-type', 'text/plain', 'content-length', '2', ...date]);
        res.end('ok');
      });
      const peer = await client(address);

      peer.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
      const first = await peer.responses(1);

      expect(withoutDate(first)).toBe(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n${KEEP_ALIVE}\r\nok`);
      expect(first.match(DATE_LINE)).toHaveLength(1);

      peer.write('GET /two HTTP/1.1\r\nHost: a\r\n\r\n');
      const both = await peer.responses(2);

      // The handler's own Date is kept, and no second one added.
      expect(both.slice(first.length)).toBe(
        `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n${KEEP_ALIVE}\r\nok`,
      );
      expect(urls(recorded)).toEqual(['GET /one', 'GET /two']);
      expect(recorded.requests[0]?.socket).toBe(recorded.requests[1]?.socket);
      expect(peer.ended).toBe(false);
    });

    it('answers pipelined requests one at a time, in request order, even when the first is answered last', async () => {
      const events: string[] = [];
      const { address } = await serve((req, res) => {
        events.push(`start ${req.url}`);
        const answer = () => {
          events.push(`answer ${req.url}`);
          res.writeHead(200, ['content-length', '1']);
          res.end(req.url.slice(1));
        };
        if (req.url === '/a') setTimeout(answer, 50);
        else answer();
      });
      const peer = await client(address);

      peer.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n');
      const text = await peer.responses(3);

      const response = (body: string) => `HTTP/1.1 200 OK\r\ncontent-length: 1\r\n${KEEP_ALIVE}\r\n${body}`;
      expect(withoutDate(text)).toBe(response('a') + response('b') + response('c'));
      expect(events).toEqual(['start /a', 'answer /a', 'start /b', 'answer /b', 'start /c', 'answer /c']);
    });

    it('chunks a response without Content-Length to an HTTP/1.1 client, with trailers after the last chunk', async () => {
      const { address } = await serve((req, res) => {
        if (req.url === '/next') return answerOk(req, res);
        res.writeHead(200, ['content-type', 'text/plain']);
        res.write('hello');
        res.write(Buffer.from(' world'));
        res.write('');
        res.addTrailers(['x-checksum', 'abc']);
        res.end('!');
      });
      const peer = await client(address);

      peer.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
      const text = await peer.until((received) => /\r\n0\r\n(?:[^\r\n]+\r\n)*\r\n$/.test(received));

      expect(withoutDate(text)).toBe(
        `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n${KEEP_ALIVE}\r\n` +
          '5\r\nhello\r\n6\r\n world\r\n1\r\n!\r\n0\r\nx-checksum: abc\r\n\r\n',
      );
      // The framing ended where the client expects it: the connection answers the next request.
      peer.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(withoutDate((await peer.responses(2)).slice(text.length))).toBe(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${KEEP_ALIVE}\r\nok`);
    });

    it('delimits a response without Content-Length to an HTTP/1.0 client by closing the connection, never chunked', async () => {
      const { address } = await serve((_req, res) => {
        res.writeHead(200, ['content-type', 'text/plain']);
        res.write('hello');
        res.addTrailers(['x-checksum', 'abc']);
        res.end(' world');
      });
      const peer = await client(address);

      peer.write('GET /old HTTP/1.0\r\n\r\n');
      await peer.serverEnd();

      expect(withoutDate(peer.text)).toBe('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nConnection: close\r\n\r\nhello world');
      expect(peer.text.match(DATE_LINE)).toHaveLength(1);
    });

    it('keeps an HTTP/1.0 connection with Connection: keep-alive open after a Content-Length response', async () => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write('GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const first = await peer.responses(1);
      peer.write('GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const both = await peer.responses(2);

      const response = `HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${KEEP_ALIVE}\r\nok`;
      expect(withoutDate(first)).toBe(response);
      expect(withoutDate(both)).toBe(response + response);
      expect(urls(recorded)).toEqual(['GET /1', 'GET /2']);
      expect(peer.ended).toBe(false);
    });

    it('answers HEAD with the handler\'s Content-Length and no body, and serves the next request right after', async () => {
      const { address } = await serve((_req, res) => {
        res.writeHead(200, ['content-length', '5']);
        res.end('hello');
      });
      const peer = await client(address);

      peer.write('HEAD /doc HTTP/1.1\r\nHost: a\r\n\r\nGET /doc HTTP/1.1\r\nHost: a\r\n\r\n');
      const text = await peer.until((received) => received.endsWith('hello'));

      const head = `HTTP/1.1 200 OK\r\ncontent-length: 5\r\n${KEEP_ALIVE}\r\n`;
      expect(withoutDate(text)).toBe(`${head}${head}hello`);
    });

    it('sends no body with 204 and 304 even when the handler writes one, and no chunked framing either', async () => {
      const { address } = await serve((req, res) => {
        if (req.url === '/deleted') {
          res.writeHead(204, []);
          res.end('oops');
        } else if (req.url === '/cached') {
          res.writeHead(304, ['etag', '"v1"']);
          res.write('stale body');
          res.end();
        } else answerOk(req, res);
      });
      const peer = await client(address);

      peer.write('DELETE /deleted HTTP/1.1\r\nHost: a\r\n\r\nGET /cached HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n');
      const text = await peer.until((received) => received.endsWith('ok'));

      expect(withoutDate(text)).toBe(
        `HTTP/1.1 204 No Content\r\n${KEEP_ALIVE}\r\n` +
          `HTTP/1.1 304 Not Modified\r\netag: "v1"\r\n${KEEP_ALIVE}\r\n` +
          `HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${KEEP_ALIVE}\r\nok`,
      );
    });

    it('closes after the second response with maxRequestsPerSocket: 2', async () => {
      const { address, recorded } = await serve(answerOk, { limits: { ...DEFAULT_HTTP1_SERVER_LIMITS, maxRequestsPerSocket: 2 } });
      const peer = await client(address);

      peer.write('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n');
      const first = await peer.responses(1);
      expect(withoutDate(first)).toBe(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${KEEP_ALIVE}\r\nok`);

      peer.write('GET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
      await peer.serverEnd();

      expect(withoutDate(peer.text.slice(first.length))).toBe('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\nok');
      expect(urls(recorded)).toEqual(['GET /1', 'GET /2']);
    });
  });

  describe('Expect: 100-continue', () => {
    it('sends 100 Continue before the body is sent, then the final response', async () => {
      const { address } = await serve((req, res) => {
        const chunks: Buffer[] = [];
        req.body?.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.body?.on('end', () => {
          const body = `got ${Buffer.concat(chunks).toString()}`;
          res.writeHead(200, ['content-length', String(body.length)]);
          res.end(body);
        });
      });
      const peer = await client(address);

      peer.write('POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
      await peer.until((text) => text.length > 0);
      expect(peer.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');

      peer.write('hello');
      const text = await peer.until((received) => received.endsWith('got hello'));

      expect(withoutDate(text)).toBe(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 9\r\n${KEEP_ALIVE}\r\ngot hello`);
    });

    it('answers an unknown expectation with 417 and closes, without calling the handler', async () => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write('POST /upload HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 5\r\n\r\n');
      await peer.serverEnd();

      expect(peer.text).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\n/);
      expect(peer.text).toContain('\r\nweft-proxy-error: expectation "something" is not supported\r\n');
      expect(peer.text).toContain('\r\nconnection: close\r\n');
      expect(peer.text).not.toContain('100 Continue');
      expect(recorded.requests).toHaveLength(0);
    });
  });

  describe('refused requests', () => {
    it('answers an HTTP/1.1 request without Host with 400 and closes, without calling the handler', async () => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write('GET / HTTP/1.1\r\nAccept: */*\r\n\r\n');
      await peer.serverEnd();

      const reason = 'malformed request (an HTTP/1.1 request needs exactly one Host header, not 0)';
      expect(peer.text).toBe(
        `HTTP/1.1 400 Bad Request\r\nweft-proxy-error: ${reason}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n` +
          `content-length: ${reason.length + 1}\r\n\r\n${reason}\n`,
      );
      expect(recorded.requests).toHaveLength(0);
    });

    it.each([
      ['two Content-Length fields', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
      ['a bare LF line ending', 'GET / HTTP/1.1\nHost: a\n\n'],
      ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ])('answers a head with %s with 400 and closes, without calling the handler', async (_name, request) => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write(request);
      await peer.serverEnd();

      expect(peer.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(peer.text).toMatch(/\r\nweft-proxy-error: malformed request \(HPE_[A-Z_]+\)\r\n/);
      expect(peer.text).toContain('\r\nconnection: close\r\n');
      expect(recorded.requests).toHaveLength(0);
    });

    it('answers a head larger than maxHeaderBytes with 431 and closes, without calling the handler', async () => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(DEFAULT_HTTP1_SERVER_LIMITS.maxHeaderBytes + 1024)}\r\n\r\n`);
      await peer.serverEnd();

      expect(peer.text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(peer.text).toContain('\r\nweft-proxy-error: request head too large (HPE_HEADER_OVERFLOW)\r\n');
      expect(recorded.requests).toHaveLength(0);
    });
  });

  describe('request bodies', () => {
    it('streams a chunked body as exactly the bytes sent, marks the request complete, and gives a Content-Length: 0 POST no body', async () => {
      const seen: { url: string; body: string; completeAtStart: boolean; completeAtEnd: boolean; hasBody: boolean }[] = [];
      const { address } = await serve((req, res) => {
        const completeAtStart = req.complete;
        if (req.body === undefined) {
          seen.push({ url: req.url, body: '', completeAtStart, completeAtEnd: req.complete, hasBody: false });
          return answerOk(req, res);
        }
        const chunks: Buffer[] = [];
        req.body.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.body.on('end', () => {
          seen.push({ url: req.url, body: Buffer.concat(chunks).toString('latin1'), completeAtStart, completeAtEnd: req.complete, hasBody: true });
          answerOk(req, res);
        });
      });
      const peer = await client(address);

      peer.write('POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      await sleep(20);
      peer.write('6\r\n world\r\n0\r\n\r\n');
      await peer.responses(1);
      peer.write('POST /empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n');
      await peer.responses(2);

      expect(seen).toEqual([
        { url: '/chunked', body: 'hello world', completeAtStart: false, completeAtEnd: true, hasBody: true },
        { url: '/empty', body: '', completeAtStart: false, completeAtEnd: false, hasBody: false },
      ]);
      expect(peer.ended).toBe(false);
    });

    it('holds a 1 MB body the handler does not read for 100 ms, then delivers every byte intact', async () => {
      const sent = patternBytes(1024 * 1024);
      let bufferedBeforeReading = -1;
      let received: Buffer | undefined;
      const { address } = await serve((req, res) => {
        const body = req.body;
        if (body === undefined) throw new Error('the 1 MB POST has no body stream');
        setTimeout(() => {
          bufferedBeforeReading = body.readableLength;
          const chunks: Buffer[] = [];
          body.on('data', (chunk: Buffer) => chunks.push(chunk));
          body.on('end', () => {
            received = Buffer.concat(chunks);
            answerOk(req, res);
          });
        }, 100);
      });
      const peer = await client(address);

      peer.write(`POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${sent.length}\r\n\r\n`);
      peer.write(sent);
      await peer.responses(1);

      // Reading stopped near the body's 64 KiB mark instead of buffering the whole megabyte.
      expect(bufferedBeforeReading).toBeGreaterThan(0);
      expect(bufferedBeforeReading).toBeLessThanOrEqual(256 * 1024);
      expect(received?.length).toBe(sent.length);
      expect(received?.equals(sent)).toBe(true);
    });

    it('destroys the body with WEFT_CLIENT_ABORTED and tells the observer downstreamClosed when the client goes away mid-body', async () => {
      const observed: string[] = [];
      let bytes = 0;
      let bodyError: (Error & { code?: string }) | undefined;
      const { address, recorded } = await serve((req, res) => {
        res.observer = { downstreamClosed: () => observed.push('downstreamClosed'), downstreamDrained: () => observed.push('downstreamDrained') };
        req.body?.on('data', (chunk: Buffer) => (bytes += chunk.length));
        req.body?.on('error', (error: Error & { code?: string }) => (bodyError = error));
      });
      const peer = await client(address);

      peer.write('POST /cut HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
      await vi.waitFor(() => expect(bytes).toBe(10));
      peer.socket.resetAndDestroy();

      await vi.waitFor(() => expect(observed).toEqual(['downstreamClosed']));
      await vi.waitFor(() => expect(bodyError?.code).toBe('WEFT_CLIENT_ABORTED'));
      expect(recorded.requests[0]?.complete).toBe(false);
      expect(recorded.requests[0]?.body?.destroyed).toBe(true);
    });

    it('aborts the body of a client that half-closes mid-body, still sends the response, with Connection: close, then closes', async () => {
      let bodyError: (Error & { code?: string }) | undefined;
      const { address } = await serve((req, res) => {
        req.body?.resume();
        req.body?.on('error', (error: Error & { code?: string }) => {
          bodyError = error;
          res.writeHead(400, ['content-length', '3']);
          res.end('cut');
        });
      });
      const peer = await client(address);

      peer.write('POST /cut HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
      peer.socket.end();
      await peer.serverEnd();

      expect(bodyError?.code).toBe('WEFT_CLIENT_ABORTED');
      expect(withoutDate(peer.text)).toBe('HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\nConnection: close\r\n\r\ncut');
    });
  });

  describe('response backpressure', () => {
    it('returns false from write when the client falls behind, and tells the observer downstreamDrained once it catches up', async () => {
      const piece = Buffer.alloc(64 * 1024, 0x61);
      // More than loopback's socket buffers hold, so a client that stops reading stalls the response.
      const total = 512 * piece.length;
      const events: string[] = [];
      const { address } = await serve((_req, res) => {
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += piece.length;
            if (!res.write(piece)) {
              events.push(`full at ${sent}`);
              return;
            }
          }
          res.end();
          events.push('ended');
        };
        res.observer = {
          downstreamClosed: () => events.push('closed'),
          downstreamDrained: () => {
            events.push('drained');
            pump();
          },
        };
        res.writeHead(200, ['content-length', String(total)]);
        pump();
      });
      const peer = await client(address);
      peer.socket.pause();

      peer.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
      // Stalled: no write is flushed for 100 ms, and the last one returned false.
      await vi.waitFor(
        async () => {
          const before = events.length;
          expect(before).toBeGreaterThan(0);
          await sleep(100);
          expect(events.length).toBe(before);
        },
        { timeout: 5_000, interval: 1 },
      );
      const stalled = events.length;
      expect(events.at(-1)).toMatch(/^full at \d+$/);
      expect(Number(events.at(-1)?.slice('full at '.length))).toBeLessThan(total);

      peer.socket.resume();
      await vi.waitFor(() => expect(events.at(-1)).toBe('ended'), { timeout: 5_000 });
      await vi.waitFor(() => expect(peer.bytes).toBeGreaterThanOrEqual(total), { timeout: 5_000 });

      expect(events[stalled]).toBe('drained');
      expect(peer.bytes - (peer.text.indexOf('\r\n\r\n') + 4)).toBe(total);
      expect(events).not.toContain('closed');
    });
  });

  describe('draining', () => {
    it('closes idle connections at once and busy ones right after their response, which says Connection: close', async () => {
      let release: (() => void) | undefined;
      const { address, server } = await serve((req, res) => {
        if (req.url === '/slow') release = () => answerOk(req, res);
        else answerOk(req, res);
      });
      const idle = await client(address);
      const busy = await client(address);
      idle.write('GET /quick HTTP/1.1\r\nHost: a\r\n\r\n');
      await idle.responses(1);
      busy.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
      await vi.waitFor(() => expect(release).toBeDefined());

      server.draining = true;
      server.closeIdleConnections();

      await idle.serverEnd();
      await sleep(20);
      expect(busy.ended).toBe(false);
      expect(busy.text).toBe('');

      release?.();
      await busy.serverEnd();
      expect(withoutDate(busy.text)).toBe('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\nok');
    });
  });

  describe('upgrades', () => {
    it('hands an Upgrade request and the bytes after its head to the tunnel handler, with the socket', async () => {
      const { address, recorded } = await serve(answerOk, {
        tunnel: (_req, socket) => {
          socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
          socket.on('data', (chunk: Buffer) => socket.write(`echo:${chunk.toString('latin1')}`));
          socket.resume();
        },
      });
      const peer = await client(address);

      peer.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi');
      await peer.until((text) => text.endsWith('\r\n\r\n'));
      peer.write('GET /not-http HTTP/1.1\r\nHost: a\r\n\r\n');
      const text = await peer.until((received) => received.includes('echo:'));
      await sleep(10);

      expect(peer.text).toBe(`${text.slice(0, text.indexOf('echo:'))}echo:GET /not-http HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(recorded.tunnels).toHaveLength(1);
      const tunnel = recorded.tunnels[0];
      expect(tunnel?.request.method).toBe('GET');
      expect(tunnel?.request.url).toBe('/ws');
      expect(tunnel?.request.rawHeaders).toEqual(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket']);
      expect(tunnel?.head.toString('latin1')).toBe('\x81\x02hi');
      expect(recorded.requests).toHaveLength(0);
    });

    it('hands a CONNECT request to the tunnel handler with an empty head', async () => {
      const { address, recorded } = await serve(answerOk, {
        tunnel: (_req, socket) => socket.end('HTTP/1.1 200 Connection Established\r\n\r\n'),
      });
      const peer = await client(address);

      peer.write('CONNECT books.example:443 HTTP/1.1\r\nHost: books.example:443\r\n\r\n');
      await peer.serverEnd();

      expect(peer.text).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
      expect(recorded.tunnels.map(({ request, head }) => [request.method, request.url, head.length])).toEqual([['CONNECT', 'books.example:443', 0]]);
      expect(recorded.requests).toHaveLength(0);
    });
  });

  describe('timeouts', () => {
    it('answers a head not received within headersTimeoutMs with 408, and closes an idle keep-alive connection', async () => {
      const { address, recorded } = await serve(answerOk, { limits: { ...DEFAULT_HTTP1_SERVER_LIMITS, headersTimeoutMs: 200, keepAliveTimeoutMs: 300 } });
      const slow = await client(address);
      const idle = await client(address);

      idle.write('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n');
      const answered = await idle.responses(1);
      // keepAliveTimeoutMs under a second is announced as the smallest whole number of seconds.
      expect(withoutDate(answered)).toBe('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1\r\n\r\nok');
      slow.write('GET /slow HTTP/1.1\r\nHost: a\r\n');

      await Promise.all([slow.serverEnd(1_500), idle.serverEnd(1_500)]);

      expect(slow.text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\nweft-proxy-error: request not received in time\r\nconnection: close\r\n/);
      expect(idle.text).toBe(answered);
      expect(urls(recorded)).toEqual(['GET /1']);
    });
  });

  describe('request headers', () => {
    it('builds the headers record as node:http does: lists joined, cookies with "; ", set-cookie a list, the first of single-valued fields', async () => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write(
        'GET /h HTTP/1.1\r\nHost: first.example\r\nAccept: text/html\r\naccept: application/json\r\nCookie: a=1\r\nCookie: b=2\r\n' +
          'Set-Cookie: x=1\r\nSet-Cookie: y=2\r\nUser-Agent: one\r\nUser-Agent: two\r\nX-Trace: t\r\n\r\n',
      );
      await peer.responses(1);

      const req = recorded.requests[0] as Http1ServerRequest;
      expect(req.headers).toEqual({
        host: 'first.example',
        accept: 'text/html, application/json',
        cookie: 'a=1; b=2',
        'set-cookie': ['x=1', 'y=2'],
        'user-agent': 'one',
        'x-trace': 't',
      });
      expect(req.headers).toBe(req.headers);
      expect(req.host).toBe('first.example');
      expect(req.rawHeaders.slice(0, 4)).toEqual(['Host', 'first.example', 'Accept', 'text/html']);
    });

    it('refuses a request with two Host headers (RFC 9112 §3.2) with 400, without calling the handler', async () => {
      const { address, recorded } = await serve();
      const peer = await client(address);

      peer.write('GET /h HTTP/1.1\r\nHost: first.example\r\nHost: second.example\r\n\r\n');
      await peer.serverEnd();

      expect(statusLines(peer.text)).toEqual(['HTTP/1.1 400 Bad Request\r\n']);
      expect(peer.text).toContain('exactly one Host header, not 2');
      expect(urls(recorded)).toEqual([]);
    });
  });

  describe('ordering and hand-over edge cases', () => {
    // RFC 9112 §9.3.2: responses to pipelined requests go out in request order, a refusal included: the 400 for the
    // second request waits for the response to the first.
    it('does not send the 400 for a bad pipelined request before the response to the request ahead of it', async () => {
      const { address, recorded } = await serve((req, res) => {
        setTimeout(() => answerOk(req, res), 50);
      });
      const peer = await client(address);

      peer.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /no-host HTTP/1.1\r\n\r\n');
      await peer.serverEnd();
      await sleep(80);

      expect(urls(recorded)).toEqual(['GET /slow']);
      expect(statusLines(peer.text)[0]).not.toBe('HTTP/1.1 400 Bad Request\r\n');
    });

    // RFC 9112 §9.6: after a response with Connection: close the server processes no further request on that
    // connection, also when the close is its own decision (request limit, drain, a rejectUnsafeFraming answer) and the
    // response was finished inside llhttp's callback, with the next request in the same read.
    it.each([
      ['a request with Connection: close', DEFAULT_HTTP1_SERVER_LIMITS, false, 'GET /first HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
      ['an HTTP/1.0 request with Transfer-Encoding, refused by rejectUnsafeFraming', DEFAULT_HTTP1_SERVER_LIMITS, false, 'POST /first HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['the last response maxRequestsPerSocket allows', { ...DEFAULT_HTTP1_SERVER_LIMITS, maxRequestsPerSocket: 1 }, false, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['a response while draining', DEFAULT_HTTP1_SERVER_LIMITS, true, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\n'],
      ["rejectUnsafeFraming's 431 for too many fields", { ...DEFAULT_HTTP1_SERVER_LIMITS, maxHeadersCount: 3 }, false, 'GET /first HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n'],
    ] as const)('processes no request pipelined after %s, which closes the connection', async (_name, limits, draining, first) => {
      const { address, server, recorded } = await serve((req, res) => {
        if (rejectUnsafeFraming(req, res, limits)) return;
        answerOk(req, res);
      }, { limits });
      server.draining = draining;
      const peer = await client(address);

      peer.write(`${first}GET /second HTTP/1.1\r\nHost: a\r\n\r\n`);
      await peer.serverEnd();
      await sleep(20);

      expect(statusLines(peer.text)).toHaveLength(1);
      expect(peer.text).toContain('\r\nConnection: close\r\n');
      expect(urls(recorded)).toEqual([`${first.split(' ')[0] ?? ''} /first`]);
    });

    // A pipelined request with Expect: 100-continue waits behind the one being answered; its 100 Continue goes out
    // when its turn comes, after the response ahead of it.
    it('sends 100 Continue to a pipelined request with Expect: 100-continue once its turn comes', async () => {
      const { address } = await serve((req, res) => {
        if (req.body === undefined) {
          setTimeout(() => answerOk(req, res), 30);
          return;
        }
        req.body.resume();
        req.body.on('end', () => answerOk(req, res));
      });
      const peer = await client(address);

      peer.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\nPOST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
      await peer.until((text) => text.includes('100 Continue'), 1_000);

      // The response to /slow first, whole, then the 100 Continue for /upload.
      expect(peer.text.endsWith('\r\n\r\nokHTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
      expect(peer.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      peer.write('hello');
      await peer.until((text) => text.split('HTTP/1.1 200 OK').length === 3, 1_000);
    });

    // When preRead holds a whole Upgrade head the socket belongs to the tunnel handler before handle() returns, and
    // stays paused until that handler reads it: nothing the client sends in between is lost.
    it('leaves the socket paused for the tunnel handler when the Upgrade head came in preRead', async () => {
      const tunnelled: Buffer[] = [];
      const { address, recorded } = await serve(answerOk, {
        preRead: true,
        tunnel: (_req, socket) => {
          // A tunnel handler connects upstream first, and reads the client only then.
          setTimeout(() => {
            socket.on('data', (chunk: Buffer) => tunnelled.push(chunk));
            socket.resume();
          }, 100);
        },
      });
      const peer = await client(address);

      peer.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      await vi.waitFor(() => expect(recorded.tunnels).toHaveLength(1));
      peer.write('frame');
      await sleep(150);

      expect(Buffer.concat(tunnelled).toString('latin1')).toBe('frame');
    });

    // A body that stalls past requestTimeoutMs gets 408, as a slow head does, while no response to it has started.
    it('answers a body not received within requestTimeoutMs with 408 when no response has started', async () => {
      const { address } = await serve((req) => req.body?.resume(), { limits: { ...DEFAULT_HTTP1_SERVER_LIMITS, requestTimeoutMs: 200 } });
      const peer = await client(address);

      peer.write('POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234');
      await peer.serverEnd(1_500);

      expect(peer.text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\nweft-proxy-error: request not received in time\r\n/);
    });

    // An Upgrade request that declares a body: llhttp would read the body before pausing for the upgrade, so the tunnel
    // would miss those bytes. It is refused instead (or, were it tunnelled, every byte after the head handed over).
    it('loses no byte after the head of an Upgrade request that declares a body', async () => {
      const { address, recorded } = await serve(answerOk, { tunnel: (_req, socket) => socket.destroy() });
      const peer = await client(address);

      peer.write('POST /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhelloEXTRA');
      await peer.serverEnd();

      const outcome = recorded.tunnels[0]?.head.toString('latin1') ?? statusLines(peer.text)[0];
      expect(['helloEXTRA', 'HTTP/1.1 400 Bad Request\r\n']).toContain(outcome);
    });
  });
});
