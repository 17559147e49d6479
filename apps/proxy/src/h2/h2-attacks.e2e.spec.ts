import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLIENT_PREFACE,
  continuationFrame,
  frame,
  FrameType,
  goawayCode,
  headerBlock,
  headersFrame,
  pingFrame,
  requestFields,
  rstStreamFrame,
  type RawAttackOptions,
  runRawAttack,
  settingsFrame,
} from './h2-frames.spec-helper.js';
import { DEFAULT_H2_SERVER_LIMITS } from './hardened-h2-server.js';
import { authority, endpointAt, type H2Upstream, type H2ProxyUnderTest, startH2Upstream, startOutboundH2Proxy } from './h2-test-kit.spec-helper.js';

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);
const CANCEL = 0x8;
const ENHANCE_YOUR_CALM = 0xb;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Bed {
  readonly upstream: H2Upstream;
  readonly proxy: H2ProxyUnderTest;
}

/** An upstream that answers after a short wait, so a stream reset right after its HEADERS is still open upstream. */
async function bed(): Promise<Bed> {
  const upstream = await startH2Upstream((stream) => {
    const timer = setTimeout(() => {
      if (!stream.closed) stream.respond({ ':status': 200 }, { endStream: true });
    }, 5);
    stream.once('close', () => clearTimeout(timer));
  });
  cleanups.push(() => upstream.close());
  const proxy = await startOutboundH2Proxy();
  cleanups.push(() => proxy.close());
  proxy.discovery.setEndpoints(books, [endpointAt(upstream.address)]);
  return { upstream, proxy };
}

/**
 * A well-behaved client that sends one request every 5 ms while an attack runs; every request must succeed and none
 * may take long. Returns a function that stops it and reports.
 */
function wellBehaved(port: number): () => Promise<{ ok: number; failed: number; worstMs: number; sessionLost: boolean }> {
  const session: ClientHttp2Session = connectH2(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  let sessionLost = false;
  session.once('close', () => (sessionLost = true));
  let ok = 0;
  let failed = 0;
  let worstMs = 0;
  let running = true;
  const inFlight = new Set<Promise<void>>();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = session.request({ ':path': '/good', ':authority': BOOKS }, { endStream: true });
      req.on('response', (headers) => {
        if (headers[':status'] === 200) ok += 1;
        else failed += 1;
      });
      req.on('error', () => (failed += 1));
      req.resume();
      req.on('close', () => {
        worstMs = Math.max(worstMs, performance.now() - started);
        resolve();
      });
    });
  const loop = async (): Promise<void> => {
    while (running) {
      const call = one();
      inFlight.add(call);
      void call.then(() => inFlight.delete(call));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const looping = loop();
  return async () => {
    running = false;
    await looping;
    await Promise.all(inFlight);
    const lost = sessionLost;
    session.close();
    return { ok, failed, worstMs, sessionLost: lost };
  };
}

const PREFACE = Buffer.concat([CLIENT_PREFACE, settingsFrame()]);

/** `count` copies of what `make(i)` builds, `perChunk` frames to a write. */
function chunked(count: number, perChunk: number, make: (index: number) => Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < count; start += perChunk) {
    chunks.push(Buffer.concat(Array.from({ length: Math.min(perChunk, count - start) }, (_, i) => make(start + i))));
  }
  return chunks;
}

const attackStreams = (upstream: H2Upstream): number => upstream.requests.filter((raw) => raw.includes('/attack')).length;

/** Runs the attack while the well-behaved client keeps going (at least `minMs`), then checks on both. */
async function underAttack(port: number, chunks: Buffer[], options: RawAttackOptions = {}, minMs = 300) {
  const stop = wellBehaved(port);
  const [attack] = await Promise.all([runRawAttack(port, [PREFACE, ...chunks], options), new Promise((resolve) => setTimeout(resolve, minMs))]);
  const good = await stop();
  return { attack, good };
}

describe('H2Proxy under HTTP/2 attacks (raw frames from a worker thread)', () => {
  it('Rapid Reset: 20,000 HEADERS+RST_STREAM pairs get the session GOAWAY quickly, costing the upstream at most the reset budget', async () => {
    const { upstream, proxy } = await bed();
    const pair = (i: number): Buffer => Buffer.concat([headersFrame(1 + 2 * i, requestFields('/attack', BOOKS)), rstStreamFrame(1 + 2 * i, CANCEL)]);
    const { attack, good } = await underAttack(proxy.port, chunked(20_000, 200, pair));
    expect(attack.closed).toBe(true);
    expect(attack.elapsedMs).toBeLessThan(2_000);
    expect(attack.frames.some((read) => goawayCode(read) !== undefined && goawayCode(read) !== 0)).toBe(true);
    // Streams reset before the proxy's next turn cost nothing upstream; the reset budget bounds the rest.
    expect(attackStreams(upstream)).toBeLessThanOrEqual(DEFAULT_H2_SERVER_LIMITS.streamResetBurst);
    expect(good.failed).toBe(0);
    expect(good.sessionLost).toBe(false);
    expect(good.ok).toBeGreaterThan(0);
    expect(good.worstMs).toBeLessThan(1_000);
  });

  it('CONTINUATION flood: a header block that never ends is cut at the header-list limit', async () => {
    const { upstream, proxy } = await bed();
    const filler = headerBlock(Array.from({ length: 30 }, (_, i) => [`x-filler-${i}`, 'v'.repeat(20)] as const));
    const opening = frame(FrameType.HEADERS, 0, 1, headerBlock(requestFields('/attack', BOOKS)));
    const flood = chunked(10_000, 100, () => continuationFrame(1, filler));
    const { attack, good } = await underAttack(proxy.port, [opening, ...flood]);
    expect(attack.closed).toBe(true);
    expect(attack.elapsedMs).toBeLessThan(2_000);
    // The session ends with a GOAWAY carrying an error, unless the close reset the connection while the flood was still
    // unread on the proxy's side: the attacker's kernel may then drop the GOAWAY before the attacker reads it.
    const goaway = attack.frames.some((read) => goawayCode(read) !== undefined && goawayCode(read) !== 0);
    expect(goaway || attack.reset, `frames: ${attack.frames.map((read) => read.type).join(',')}; reset: ${attack.reset}; errors: ${attack.errors.join(',')}; written: ${attack.bytesWritten}`).toBe(true);
    expect(attackStreams(upstream)).toBe(0);
    expect(good.failed).toBe(0);
    expect(good.sessionLost).toBe(false);
    expect(good.ok).toBeGreaterThan(0);
  });

  it('PING flood from a client that does not read: the session is closed, the other client is served', async () => {
    const { upstream, proxy } = await bed();
    const { attack, good } = await underAttack(proxy.port, chunked(200_000, 1_000, pingFrame), { pauseReading: true });
    expect(attack.closed).toBe(true);
    expect(attack.elapsedMs).toBeLessThan(2_000);
    expect(attackStreams(upstream)).toBe(0);
    expect(good.failed).toBe(0);
    expect(good.sessionLost).toBe(false);
    expect(good.ok).toBeGreaterThan(0);
  });

  it('SETTINGS flood from a client that does not read: the session is closed, the other client is served', async () => {
    const { upstream, proxy } = await bed();
    const settings = (): Buffer => settingsFrame([[0x4, 65_535]]);
    const { attack, good } = await underAttack(proxy.port, chunked(200_000, 1_000, settings), { pauseReading: true });
    expect(attack.closed).toBe(true);
    expect(attack.elapsedMs).toBeLessThan(2_000);
    expect(attackStreams(upstream)).toBe(0);
    expect(good.failed).toBe(0);
    expect(good.sessionLost).toBe(false);
    expect(good.ok).toBeGreaterThan(0);
  });

  it('a header block with more fields than allowed never reaches the upstream', async () => {
    const { upstream, proxy } = await bed();
    const fields = requestFields('/attack', BOOKS, Array.from({ length: 200 }, (_, i) => [`x-many-${i}`, 'v'] as const));
    const { attack, good } = await underAttack(proxy.port, [headersFrame(1, fields)], { waitMs: 200 });
    const reset = attack.frames.find((read) => read.type === FrameType.RST_STREAM && read.streamId === 1);
    expect(reset?.payload.readUInt32BE(0)).toBe(ENHANCE_YOUR_CALM);
    expect(attackStreams(upstream)).toBe(0);
    expect(good.failed).toBe(0);
    expect(good.sessionLost).toBe(false);
  });
});
