import type { SocketAddress } from '@weft/core';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectTcp } from '../transport/connect-tcp.js';
import { LoopbackPeers } from '../transport/loopback-peers.spec-helper.js';
import type { UpstreamRequest } from './http1-upstream-connection.js';
import { Http1UpstreamPool } from './http1-upstream-pool.js';
import { Recorder, type RecorderHooks } from './recording-upstream-handler.spec-helper.js';

// ----- a raw HTTP/1.1 peer: reads request bytes, writes exact response bytes -----

interface PeerConnection {
  readonly socket: Socket;
  /** Every byte received on this connection, as latin1 text. */
  received: string;
  /** The complete requests (head and framed body) received on it. */
  readonly requests: string[];
  /** Whether the proxy has closed its side (FIN or reset): the peer's sockets allow half-open connections. */
  ended: boolean;
}

/** Called once per complete request, `index` counting the requests of every connection. */
type Responder = (request: string, connection: PeerConnection, index: number) => void;

interface RawPeer {
  readonly address: SocketAddress;
  readonly authority: string;
  /** In the order they were accepted. */
  readonly connections: PeerConnection[];
  readonly requests: string[];
}

/** The length of the first complete request in `text`, or 0 while it is incomplete (no trailers, enough for these tests). */
function requestLength(text: string): number {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return 0;
  const head = text.slice(0, headEnd + 2);
  const bodyStart = headEnd + 4;
  const declared = /\r\ncontent-length: *(\d+)\r\n/i.exec(head);
  if (declared !== null) {
    const end = bodyStart + Number(declared[1]);
    return text.length >= end ? end : 0;
  }
  if (!/\r\ntransfer-encoding: *chunked\r\n/i.test(head)) return bodyStart;
  for (let at = bodyStart; ; ) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd < 0) return 0;
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (size === 0) return text.length >= lineEnd + 4 ? lineEnd + 4 : 0;
    at = lineEnd + 2 + size + 2;
    if (text.length < at) return 0;
  }
}

const ok = (body: string, extraHeaders = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extraHeaders}\r\n${body}`;


const get = (path: string, headers: string[] = []): UpstreamRequest => ({ method: 'GET', path, headers, body: null });

describe('Http1UpstreamPool', () => {
  const peers = new LoopbackPeers();
  const pools: Http1UpstreamPool[] = [];

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.destroy()));
    await peers.closeAll();
  });

  async function rawPeer(respond: Responder = () => undefined): Promise<RawPeer> {
    const connections: PeerConnection[] = [];
    const requests: string[] = [];
    const address = await peers.server((socket) => {
      const connection: PeerConnection = { socket, received: '', requests: [], ended: false };
      connections.push(connection);
      socket.once('end', () => (connection.ended = true));
      socket.once('close', () => (connection.ended = true));
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        connection.received += text;
        pending += text;
        for (let length = requestLength(pending); length > 0; length = requestLength(pending)) {
          const request = pending.slice(0, length);
          pending = pending.slice(length);
          connection.requests.push(request);
          requests.push(request);
          respond(request, connection, requests.length - 1);
        }
      });
    });
    return { address, authority: `127.0.0.1:${address.port}`, connections, requests };
  }

  /** A peer answering every request with `responses[index]` (the last one for later requests). */
  function scriptedPeer(...responses: string[]): Promise<RawPeer> {
    return rawPeer((_request, connection, index) => connection.socket.write(responses[Math.min(index, responses.length - 1)] ?? '', 'latin1'));
  }

  function poolFor(address: SocketAddress, keepAliveTimeoutMs = 4_000): Http1UpstreamPool {
    const pool = new Http1UpstreamPool(() => connectTcp(address, { timeoutMs: 1_000 }), {
      authority: `127.0.0.1:${address.port}`,
      maxResponseHeaderBytes: 16 * 1024,
      keepAliveTimeoutMs,
    });
    pools.push(pool);
    return pool;
  }

  async function exchange(pool: Http1UpstreamPool, request: UpstreamRequest, hooks?: RecorderHooks): Promise<Recorder> {
    const recorder = new Recorder(hooks);
    pool.dispatch(request, recorder);
    await recorder.settled;
    return recorder;
  }

  describe('requests and responses', () => {
    it('writes the request line and headers, adds host for the endpoint, and passes status, headers and body on', async () => {
      const peer = await scriptedPeer('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Multi: a\r\nX-Multi: b\r\n\r\nhello');
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, get('/path?q=1', ['accept', 'text/plain', 'X-Trace', 'abc']));

      expect(peer.connections[0]?.received).toBe(`GET /path?q=1 HTTP/1.1\r\naccept: text/plain\r\nX-Trace: abc\r\nhost: ${peer.authority}\r\n\r\n`);
      expect(recorder.events).toEqual(['connect', 'headers 200', 'data hello', 'complete']);
      expect(recorder.headers).toEqual(['Content-Type', 'text/plain', 'Content-Length', '5', 'X-Multi', 'a', 'X-Multi', 'b']);
      expect(recorder.trailers).toBeNull();
    });

    it('keeps a host the request already has', async () => {
      const peer = await scriptedPeer(ok(''));
      const pool = poolFor(peer.address);

      await exchange(pool, get('/', ['Host', 'books.example:8080']));

      expect(peer.requests).toEqual(['GET / HTTP/1.1\r\nHost: books.example:8080\r\n\r\n']);
    });

    it('passes on a head of more than 32 fields whole (fields llhttp hands over before the head completes)', async () => {
      const fields = Array.from({ length: 40 }, (_, i) => [`X-Field-${i}`, `v${i}`]);
      const peer = await scriptedPeer(`HTTP/1.1 200 OK\r\n${fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Content-Length: 2\r\n\r\nok`);
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, get('/many'));

      expect(recorder.headers).toEqual([...fields.flat(), 'Content-Length', '2']);
      expect(recorder.body()).toBe('ok');
    });

    it('joins a chunked body and passes its trailers to onComplete', async () => {
      const peer = await rawPeer((_request, { socket }) => {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5\r\nhello\r\n', 'latin1');
        setTimeout(() => socket.write('6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n', 'latin1'), 10);
      });
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, get('/chunked'));

      expect(recorder.status).toBe(200);
      expect(recorder.body()).toBe('hello world');
      expect(recorder.trailers).toEqual(['X-Checksum', 'abc', 'X-Other', '1']);
      expect(recorder.events.at(-1)).toBe('complete');
    });

    it('delivers a body delimited by the end of the connection, then completes', async () => {
      const peer = await rawPeer((_request, { socket }) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', 'latin1'));
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, get('/stream'));

      expect(recorder.events[0]).toBe('connect');
      expect(recorder.events.at(-1)).toBe('complete');
      expect(recorder.body()).toBe('until the end');
      await vi.waitFor(() => expect(pool.size()).toBe(0));
    });

    it('completes a HEAD response without waiting for the body its Content-Length announces, and reuses the connection', async () => {
      const peer = await scriptedPeer('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', ok('after'));
      const pool = poolFor(peer.address);

      const head = await exchange(pool, { method: 'HEAD', path: '/doc', headers: [], body: null });
      const next = await exchange(pool, get('/next'));

      expect(head.events).toEqual(['connect', 'headers 200', 'complete']);
      expect(head.headers).toEqual(['Content-Length', '1234']);
      expect(next.body()).toBe('after');
      expect(peer.connections).toHaveLength(1);
    });

    it('passes on only the final head after interim 100 and 103 heads, and keeps the connection in step', async () => {
      const peer = await scriptedPeer(
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final: yes\r\n\r\ndone',
        ok('second'),
      );
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, get('/early'));
      const next = await exchange(pool, get('/next'));

      expect(recorder.events).toEqual(['connect', 'headers 201', 'data done', 'complete']);
      expect(recorder.headers).toEqual(['Content-Length', '4', 'X-Final', 'yes']);
      expect(next.events).toEqual(['connect', 'headers 200', 'data second', 'complete']);
      expect(peer.connections).toHaveLength(1);
    });
  });

  describe('keep-alive', () => {
    it('sends sequential requests on one connection', async () => {
      const peer = await scriptedPeer(ok('one'), ok('two'));
      const pool = poolFor(peer.address);

      const first = await exchange(pool, get('/1'));
      const second = await exchange(pool, get('/2'));

      expect([first.body(), second.body()]).toEqual(['one', 'two']);
      expect(peer.connections).toHaveLength(1);
      expect(peer.connections[0]?.requests.map((request) => request.split('\r\n')[0])).toEqual(['GET /1 HTTP/1.1', 'GET /2 HTTP/1.1']);
      expect(pool.size()).toBe(1);
    });

    it.each([
      { name: 'an HTTP/1.1 response with Connection: close', response: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\none', connections: 2 },
      { name: 'an HTTP/1.0 response without keep-alive', response: 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none', connections: 2 },
      { name: 'an HTTP/1.0 response with Connection: keep-alive', response: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\none', connections: 1 },
    ])('after $name, two requests take $connections connection(s)', async ({ response, connections }) => {
      const peer = await scriptedPeer(response, ok('two'));
      const pool = poolFor(peer.address);

      const first = await exchange(pool, get('/1'));
      const second = await exchange(pool, get('/2'));

      expect(first.body()).toBe('one');
      expect(second.body()).toBe('two');
      expect(peer.connections).toHaveLength(connections);
    });

    it('follows the server Keep-Alive hint less one second: timeout=2 allows reuse for 1 s, timeout=1 allows none', async () => {
      const peer = await scriptedPeer(ok('a', 'Keep-Alive: timeout=2\r\n'), ok('b', 'Keep-Alive: timeout=2\r\n'), ok('c', 'Keep-Alive: timeout=1\r\n'), ok('d'));
      const pool = poolFor(peer.address);

      await exchange(pool, get('/a'));
      await sleep(50);
      await exchange(pool, get('/b'));
      expect(peer.connections).toHaveLength(1);

      // The hint shortened the 4 s idle limit to 1 s.
      pool.checkTimeouts(performance.now() + 900, 5_000, 5_000);
      await sleep(20);
      expect(pool.size()).toBe(1);
      pool.checkTimeouts(performance.now() + 1_100, 5_000, 5_000);
      await vi.waitFor(() => expect(pool.size()).toBe(0));

      // timeout=1 leaves 0 ms: the connection is closed after its response.
      await exchange(pool, get('/c'));
      await exchange(pool, get('/d'));
      expect(peer.connections).toHaveLength(3);
      expect(peer.connections[1]?.requests).toHaveLength(1);
    });

    it('does not reuse a connection idle for longer than the keep-alive timeout', async () => {
      const peer = await scriptedPeer(ok('one'), ok('two'));
      const pool = poolFor(peer.address, 30);

      await exchange(pool, get('/1'));
      await sleep(60);
      const second = await exchange(pool, get('/2'));

      expect(second.body()).toBe('two');
      expect(peer.connections).toHaveLength(2);
      await vi.waitFor(() => expect(peer.connections[0]?.ended).toBe(true));
    });

    it('drops an idle connection on which the server sends bytes nobody asked for', async () => {
      const peer = await scriptedPeer(ok('one'), ok('two'));
      const pool = poolFor(peer.address);

      await exchange(pool, get('/1'));
      expect(pool.size()).toBe(1);
      peer.connections[0]?.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstale!', 'latin1');
      await vi.waitFor(() => expect(pool.size()).toBe(0));

      const second = await exchange(pool, get('/2'));
      expect(second.events).toEqual(['connect', 'headers 200', 'data two', 'complete']);
      expect(peer.connections).toHaveLength(2);
    });

    it('reports UPSTREAM_CLOSED when a reused connection closes before any response byte (the keep-alive race)', async () => {
      const peer = await rawPeer((_request, { socket }, index) => {
        if (index === 0) socket.write(ok('one'), 'latin1');
        else socket.end();
      });
      const pool = poolFor(peer.address);

      await exchange(pool, get('/1'));
      const second = await exchange(pool, get('/2'));

      expect(second.events).toEqual(['connect', 'error UPSTREAM_CLOSED']);
      expect(peer.connections).toHaveLength(1);
    });
  });

  describe('failures', () => {
    it.each([
      ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n'],
      ['an invalid chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
      ['a protocol switch nobody asked for', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'],
      ['bytes that are not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ])('reports %s as UPSTREAM_MALFORMED_RESPONSE and answers the next request on a new connection', async (_name, response) => {
      const peer = await scriptedPeer(response, ok('fine'));
      const pool = poolFor(peer.address);

      const bad = await exchange(pool, get('/bad'));
      const next = await exchange(pool, get('/next'));

      expect(bad.error?.code).toBe('UPSTREAM_MALFORMED_RESPONSE');
      expect(bad.events).not.toContain('complete');
      expect(next.events).toEqual(['connect', 'headers 200', 'data fine', 'complete']);
      expect(peer.connections).toHaveLength(2);
      await vi.waitFor(() => expect(peer.connections[0]?.ended).toBe(true));
    });

    // The server ends the connection (FIN) 10 bytes into a 100-byte body: UpstreamError documents UPSTREAM_CLOSED as
    // "the endpoint closed the connection before the response ended"; the body is cut, not invalid. Fails today: the
    // connection reports llhttp's finish() error (HPE_INVALID_EOF_STATE) as UPSTREAM_MALFORMED_RESPONSE.
    it('reports a body cut short by the server closing the connection as UPSTREAM_CLOSED, never as complete', async () => {
      const peer = await rawPeer((_request, { socket }) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789', 'latin1');
        setTimeout(() => socket.destroy(), 20);
      });
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, get('/cut'));

      expect(recorder.events.slice(0, 3)).toEqual(['connect', 'headers 200', 'data 0123456789']);
      expect(recorder.events).not.toContain('complete');
      expect(['UPSTREAM_CLOSED', 'ECONNRESET']).toContain(recorder.error?.code);
      await vi.waitFor(() => expect(pool.size()).toBe(0));
    });

    it('reports a refused connection with ECONNREFUSED and never calls onConnect', async () => {
      const address = await peers.refusingAddress();
      const pool = poolFor(address);

      const recorder = await exchange(pool, get('/'));

      expect(recorder.events).toEqual(['error ECONNREFUSED']);
      expect(pool.size()).toBe(0);
    });

    it('fails an exchange with no response head past the headers timeout, and one whose body stalls past the body timeout', async () => {
      const peer = await rawPeer((request, { socket }) => {
        if (request.startsWith('GET /stall ')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234', 'latin1');
      });
      const pool = poolFor(peer.address);

      const silent = new Recorder();
      pool.dispatch(get('/silent'), silent);
      await vi.waitFor(() => expect(peer.requests).toHaveLength(1));
      pool.checkTimeouts(performance.now() + 1_000, 5_000, 5_000);
      expect(silent.events).toEqual(['connect']);
      pool.checkTimeouts(performance.now() + 10_000, 5_000, 5_000);
      await silent.settled;
      expect(silent.events).toEqual(['connect', 'error UPSTREAM_HEADERS_TIMEOUT']);

      const stalled = new Recorder();
      pool.dispatch(get('/stall'), stalled);
      await vi.waitFor(() => expect(stalled.chunks).toHaveLength(1));
      pool.checkTimeouts(performance.now() + 1_000, 5_000, 5_000);
      expect(stalled.error).toBeUndefined();
      pool.checkTimeouts(performance.now() + 10_000, 5_000, 5_000);
      await stalled.settled;
      expect(stalled.events).toEqual(['connect', 'headers 200', 'data 01234', 'error UPSTREAM_BODY_TIMEOUT']);
      await vi.waitFor(() => expect(pool.size()).toBe(0));
    });
  });

  describe('request bodies', () => {
    it('adds content-length to a Buffer body', async () => {
      const peer = await scriptedPeer(ok('stored'));
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, { method: 'POST', path: '/upload', headers: ['content-type', 'text/plain'], body: Buffer.from('hello') });

      expect(peer.requests).toEqual([`POST /upload HTTP/1.1\r\ncontent-type: text/plain\r\nhost: ${peer.authority}\r\ncontent-length: 5\r\n\r\nhello`]);
      expect(recorder.body()).toBe('stored');
    });

    it('sends a stream body without a length chunked, ending with the zero-size chunk', async () => {
      const peer = await scriptedPeer(ok('stored'));
      const pool = poolFor(peer.address);

      const body = Readable.from([Buffer.from('hello'), Buffer.from(' world, and more')]);
      const recorder = await exchange(pool, { method: 'POST', path: '/stream', headers: [], body });

      expect(peer.requests).toEqual([`POST /stream HTTP/1.1\r\nhost: ${peer.authority}\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\n world, and more\r\n0\r\n\r\n`]);
      expect(recorder.events).toEqual(['connect', 'headers 200', 'data stored', 'complete']);
    });

    it('sends a stream body with its declared content-length as is', async () => {
      const peer = await scriptedPeer(ok('stored'));
      const pool = poolFor(peer.address);

      const body = Readable.from([Buffer.from('hello'), Buffer.from(' world')]);
      await exchange(pool, { method: 'PUT', path: '/doc', headers: ['Content-Length', '11'], body });

      expect(peer.requests).toEqual([`PUT /doc HTTP/1.1\r\nContent-Length: 11\r\nhost: ${peer.authority}\r\n\r\nhello world`]);
    });

    it.each([
      ['a stream shorter than its content-length', '10', () => Readable.from([Buffer.from('hello')])],
      ['a stream longer than its content-length', '3', () => Readable.from([Buffer.from('hello')])],
      ['a Buffer of another length than its content-length', '3', () => Buffer.from('hello')],
    ])('fails %s with REQUEST_BODY_LENGTH_MISMATCH; the next request works', async (_name, declared, body) => {
      const peer = await scriptedPeer(ok('fine'));
      const pool = poolFor(peer.address);

      const recorder = await exchange(pool, { method: 'POST', path: '/upload', headers: ['content-length', declared], body: body() });
      const next = await exchange(pool, get('/next'));

      expect(recorder.error?.code).toBe('REQUEST_BODY_LENGTH_MISMATCH');
      expect(recorder.events).not.toContain('complete');
      expect(next.body()).toBe('fine');
      expect(peer.requests).toHaveLength(1);
      expect(peer.requests[0]?.startsWith('GET /next ')).toBe(true);
    });

    it('fails a stream body that stops before its end with REQUEST_BODY_ABORTED', async () => {
      const peer = await scriptedPeer(ok('fine'));
      const pool = poolFor(peer.address);
      const body = new PassThrough();

      const recorder = new Recorder();
      pool.dispatch({ method: 'POST', path: '/upload', headers: [], body }, recorder);
      body.write('part');
      await vi.waitFor(() => expect(peer.connections[0]?.received).toContain('4\r\npart\r\n'));
      body.destroy();
      await recorder.settled;

      expect(recorder.events).toEqual(['connect', 'error REQUEST_BODY_ABORTED']);
      await vi.waitFor(() => expect(peer.connections[0]?.ended).toBe(true));
      expect(peer.requests).toHaveLength(0);
    });

    it.each([['/has space'], ['/split\r\nX-Injected: 1'], ['']])(
      'refuses the request target %j with REQUEST_INVALID, writes nothing and keeps the connection for the next request',
      async (target) => {
        const peer = await scriptedPeer(ok('fine'));
        const pool = poolFor(peer.address);

        const recorder = await exchange(pool, get(target));

        expect(recorder.error?.code).toBe('REQUEST_INVALID');
        expect(recorder.events).toEqual(['error REQUEST_INVALID']);
        expect((await exchange(pool, get('/next'))).body()).toBe('fine');
        expect(peer.connections).toHaveLength(1);
        expect(peer.connections[0]?.received.startsWith('GET /next HTTP/1.1\r\n')).toBe(true);
      },
    );
  });

  describe('the connection control', () => {
    it('abort ends the exchange with the given error and closes the connection; calls for an exchange that is over do nothing', async () => {
      const peer = await rawPeer((request, { socket }) => {
        if (request.startsWith('GET /slow ')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst', 'latin1');
        else socket.write(ok('fine'), 'latin1');
      });
      const pool = poolFor(peer.address);

      const aborted = new Recorder();
      pool.dispatch(get('/slow'), aborted);
      await vi.waitFor(() => expect(aborted.chunks).toHaveLength(1));
      const reason = Object.assign(new Error('the client went away'), { code: 'CLIENT_GONE' });
      aborted.control?.abort(aborted, reason);
      await aborted.settled;

      expect(aborted.error).toBe(reason);
      expect(aborted.events).toEqual(['connect', 'headers 200', 'data first', 'error CLIENT_GONE']);
      await vi.waitFor(() => expect(peer.connections[0]?.ended).toBe(true));
      expect(pool.size()).toBe(0);

      // A finished exchange's control cannot touch the next exchange its connection carries.
      const first = await exchange(pool, get('/one'));
      const second = new Recorder({ onConnect: () => first.control?.abort(first, new Error('late abort')) });
      pool.dispatch(get('/two'), second);
      await second.settled;
      expect(second.control).toBe(first.control);
      expect(second.events).toEqual(['connect', 'headers 200', 'data fine', 'complete']);
      expect(first.events).toEqual(['connect', 'headers 200', 'data fine', 'complete']);
      aborted.control?.abort(aborted, new Error('again'));
      expect(aborted.events).toHaveLength(4);
    });

    it('pauses reading when onData returns false, and resume delivers the rest (a paused exchange is not timed out)', async () => {
      let server: Socket | undefined;
      const peer = await rawPeer((_request, { socket }) => {
        server = socket;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\naaaa', 'latin1');
      });
      const pool = poolFor(peer.address);

      const recorder = new Recorder({ onData: () => false });
      pool.dispatch(get('/big'), recorder);
      await vi.waitFor(() => expect(recorder.chunks).toHaveLength(1));
      server?.write('bbbb', 'latin1');
      await sleep(50);
      pool.checkTimeouts(performance.now() + 10_000, 5_000, 5_000);
      expect(recorder.events).toEqual(['connect', 'headers 200', 'data aaaa']);

      recorder.control?.resume(recorder);
      await recorder.settled;
      expect(recorder.events).toEqual(['connect', 'headers 200', 'data aaaa', 'data bbbb', 'complete']);
      expect(recorder.body()).toBe('aaaabbbb');
      expect(pool.size()).toBe(1);
    });
  });

  describe('suspected defects', () => {
    // The first response is followed, in the same write, by a second response nobody asked for. The connection is
    // released before onComplete, so a request dispatched from onComplete takes it while llhttp is still parsing that
    // read, and the unsolicited response becomes its answer. Fails today (the proxy itself retries on setImmediate).
    it('a request dispatched from onComplete never gets the bytes that followed the previous response as its answer', async () => {
      const peer = await rawPeer((_request, { socket }, index) => {
        if (index === 0) socket.write(`${ok('one')}${ok('forged')}`, 'latin1');
        else socket.write(ok('real'), 'latin1');
      });
      const pool = poolFor(peer.address);

      const second = new Recorder();
      await exchange(pool, get('/1'), { onComplete: () => pool.dispatch(get('/2'), second) });
      await second.settled;

      expect(second.body()).not.toBe('forged');
    });

    // close() keeps a single onEmpty callback: a second close() (destroy() calls it) replaces the first one's resolver,
    // so the first promise never settles. Fails today.
    it('close() then destroy() both resolve once the connections are closed', async () => {
      const peer = await rawPeer();
      const pool = poolFor(peer.address);
      const recorder = new Recorder();
      pool.dispatch(get('/never'), recorder);
      await vi.waitFor(() => expect(peer.requests).toHaveLength(1));

      const within = (promise: Promise<void>) => Promise.race([promise.then(() => 'resolved'), sleep(300).then(() => 'pending')]);
      const closed = pool.close();
      const destroyed = pool.destroy();

      expect(await Promise.all([within(closed), within(destroyed)])).toEqual(['resolved', 'resolved']);
      expect(recorder.events).toEqual(['connect', 'error UPSTREAM_CLOSED']);
    });
  });
});
