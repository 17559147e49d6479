// Raw HTTP/2 frames for the attack and conformance specs: a tiny frame writer, HPACK literals and a frame reader.
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FrameFlag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** One frame: 9-byte header (24-bit length, type, flags, 31-bit stream id) and its payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with an `prefixBits`-bit prefix (RFC 7541 §5.1); `first` holds the pattern bits above the prefix. */
function hpackInteger(value: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7, 0), bytes]);
}

/** A header block of literal fields without indexing (no Huffman, no dynamic table): easy to produce in any number. */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

/** The fields of a plain request. */
export function requestFields(path: string, authority: string, extra: readonly (readonly [string, string])[] = []): (readonly [string, string])[] {
  return [[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', authority], ...extra];
}

export function headersFrame(streamId: number, fields: readonly (readonly [string, string])[], flags = FrameFlag.END_HEADERS | FrameFlag.END_STREAM): Buffer {
  return frame(FrameType.HEADERS, flags, streamId, headerBlock(fields));
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function settingsFrame(entries: readonly (readonly [number, number])[] = [], ack = false): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, ack ? FrameFlag.ACK : 0, 0, payload);
}

export function pingFrame(data = 0): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(data >>> 0, 4);
  return frame(FrameType.PING, 0, 0, payload);
}

export function continuationFrame(streamId: number, block: Buffer, endHeaders = false): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? FrameFlag.END_HEADERS : 0, streamId, block);
}

export interface ReadFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Splits bytes into whole frames; a trailing partial frame is left out. */
export function parseFrames(bytes: Buffer): ReadFrame[] {
  const frames: ReadFrame[] = [];
  let offset = 0;
  while (bytes.length - offset >= 9) {
    const length = bytes.readUIntBE(offset, 3);
    if (bytes.length - offset < 9 + length) break;
    frames.push({
      type: bytes.readUInt8(offset + 3),
      flags: bytes.readUInt8(offset + 4),
      streamId: bytes.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: Buffer.from(bytes.subarray(offset + 9, offset + 9 + length)),
    });
    offset += 9 + length;
  }
  return frames;
}

/** The GOAWAY error code, or undefined for another frame. */
export function goawayCode(read: ReadFrame): number | undefined {
  return read.type === FrameType.GOAWAY && read.payload.length >= 8 ? read.payload.readUInt32BE(4) : undefined;
}

/** A raw client connection: writes bytes, splits what comes back into frames, and knows when the server closed. */
export class RawH2Client {
  readonly frames: ReadFrame[] = [];
  closed = false;
  bytesReceived = 0;
  private pending: Buffer = Buffer.alloc(0);
  private readonly closeWaiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.closeWaiters.splice(0)) waiter();
    });
  }

  /** Connects and sends the preface with an empty SETTINGS frame. */
  static async open(port: number): Promise<RawH2Client> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawH2Client(socket);
    client.write(Buffer.concat([CLIENT_PREFACE, settingsFrame()]));
    return client;
  }

  /** Writes unless the connection is gone; false once the server closed it. */
  write(bytes: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.socket.write(bytes);
    return true;
  }

  /** The GOAWAY the server sent, if any. */
  goaway(): ReadFrame | undefined {
    return this.frames.find((read) => read.type === FrameType.GOAWAY);
  }

  /** Resolves when the server closed the connection, or after `ms`; true if it closed. */
  waitClosed(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.closed), ms);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      this.frames.push({
        type: this.pending.readUInt8(3),
        flags: this.pending.readUInt8(4),
        streamId: this.pending.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.pending.subarray(9, 9 + length)),
      });
      this.pending = this.pending.subarray(9 + length);
    }
  }
}

export interface RawAttackResult {
  /** Whether the server closed the connection before `waitMs` ran out. */
  readonly closed: boolean;
  /** From connect to the server's close (or to the give-up). */
  readonly elapsedMs: number;
  /** Bytes the attacker managed to write before the connection closed. */
  readonly bytesWritten: number;
  /** Every frame the server sent. */
  readonly frames: readonly ReadFrame[];
  /**
   * The connection ended with a reset: ECONNRESET, or EPIPE when the attacker's next write is what meets the reset. A
   * server that closes while the attacker's bytes are still unread in its socket makes its kernel send a RST, and the
   * attacker's socket is then destroyed with what it had not yet read, a GOAWAY included.
   */
  readonly reset: boolean;
  /** The codes of the socket errors the attacker saw, in order. */
  readonly errors: readonly string[];
}

export interface RawAttackOptions {
  /** Do not read what the server sends while attacking (its ACKs pile up on its side). */
  readonly pauseReading?: boolean;
  /** How long to wait for the server to close the connection after the last write. */
  readonly waitMs?: number;
}

/**
 * Writes `chunks` (the preface first) from a worker thread, so the attack does not share the proxy's event loop, one
 * chunk per turn of the worker's loop until the server closes the connection; then reports what the server did.
 */
export async function runRawAttack(port: number, chunks: readonly Buffer[], options: RawAttackOptions = {}): Promise<RawAttackResult> {
  const worker = new Worker(ATTACK_WORKER, {
    eval: true,
    workerData: { port, chunks: chunks.map((chunk) => new Uint8Array(chunk)), pauseReading: options.pauseReading === true, waitMs: options.waitMs ?? 3_000 },
  });
  try {
    const result = await new Promise<{ closed: boolean; elapsedMs: number; bytesWritten: number; received: Uint8Array; reset: boolean; errors: string[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return {
      closed: result.closed,
      elapsedMs: result.elapsedMs,
      bytesWritten: result.bytesWritten,
      frames: parseFrames(Buffer.from(result.received)),
      reset: result.reset,
      errors: result.errors,
    };
  } finally {
    await worker.terminate();
  }
}

const ATTACK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, chunks, pauseReading, waitMs } = workerData;
const received = [];
let closed = false;
let bytesWritten = 0;
let reset = false;
const errors = [];
const started = performance.now();
const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
socket.on('data', (chunk) => received.push(chunk));
socket.on('error', (error) => { errors.push(error.code); if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true; });
const closedOrTimeout = new Promise((resolve) => {
  socket.on('close', () => { closed = true; resolve(); });
});
const turn = () => new Promise((resolve) => setImmediate(resolve));
socket.once('connect', async () => {
  if (pauseReading) socket.pause();
  for (const chunk of chunks) {
    if (closed || socket.destroyed) break;
    socket.write(chunk);
    bytesWritten += chunk.length;
    await turn();
  }
  const elapsedAtLastWrite = performance.now() - started;
  // The attack is over: reading again lets a GOAWAY and the close be seen.
  socket.resume();
  await Promise.race([closedOrTimeout, new Promise((resolve) => setTimeout(resolve, waitMs))]);
  const elapsedMs = closed ? performance.now() - started : elapsedAtLastWrite + waitMs;
  socket.destroy();
  parentPort.postMessage({ closed, elapsedMs, bytesWritten, received: Buffer.concat(received), reset, errors });
});
`;
