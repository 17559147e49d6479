// readIntoRecycledBuffers: switches a TCP or TLS socket to reading into buffers the proxy reuses, for opaque relaying.
import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * The two sizes of read buffer. Every socket being read holds one while it waits: a small one unless its last read
 * brought at least a small buffer's worth, so that idle connections hold 4 KiB each and bulk transfers read 64 KiB
 * (libuv's own read size) at a time. The buffers of finished writes wait in a shared free list per size.
 */
export const SMALL_READ_BUFFER_BYTES = 4 * 1024;
export const LARGE_READ_BUFFER_BYTES = 64 * 1024;

/** Free buffers kept for reuse at most, per size (2 MiB of large ones); beyond that a released buffer is left to the GC. */
const MAX_FREE_BUFFERS = 32;

/**
 * Gets `bytes` (a view of a recycled buffer) and `release`, which it must call once nothing refers to the bytes any
 * more (a socket write's callback). Returning false pauses the socket until `socket.resume()`.
 */
export type RecycledChunkHandler = (bytes: Buffer, release: () => void) => boolean;

/** The socket fields Node keeps its `onread` option in, found by name on a probe socket once (see `onreadFields`). */
interface OnreadFields {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

const freeBuffers = new Map<number, Buffer[]>([
  [SMALL_READ_BUFFER_BYTES, []],
  [LARGE_READ_BUFFER_BYTES, []],
]);

function takeBuffer(size: number): Buffer {
  return freeBuffers.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** The size of the next read buffer after a read (or a gathered chunk) of `length` bytes: large while bulk data flows. */
function bufferSizeAfter(length: number): number {
  return length >= SMALL_READ_BUFFER_BYTES ? LARGE_READ_BUFFER_BYTES : SMALL_READ_BUFFER_BYTES;
}

function giveBack(buffer: Buffer): void {
  const free = freeBuffers.get(buffer.length);
  if (free !== undefined && free.length < MAX_FREE_BUFFERS) free.push(buffer);
}

/**
 * Node's default reads give every chunk a new ArrayBuffer and pass it through the stream machinery, which costs a
 * relay more than half its throughput. Its `onread` option (read into the caller's buffers, one callback per read)
 * exists only for sockets the caller constructs, not for ones a server accepts; the fields that option sets are
 * module-private symbols, so they are found by name on a socket built with the option and checked, once. A Node
 * that changed them leaves `onreadFields` undefined and every relay on the stream path.
 */
const onreadFields: OnreadFields | undefined = (() => {
  const generator = () => new Uint8Array(1);
  const callback = () => true;
  const probe = new Socket({ onread: { buffer: generator, callback } });
  const byName = new Map(Object.getOwnPropertySymbols(probe).map((key) => [key.description, key]));
  const [buffer, callbackKey, generatorKey] = [byName.get('kBuffer'), byName.get('kBufferCb'), byName.get('kBufferGen')];
  if (buffer === undefined || callbackKey === undefined || generatorKey === undefined) return undefined;
  const fields = probe as unknown as Record<symbol, unknown>;
  if (fields[buffer] !== true || fields[callbackKey] !== callback || fields[generatorKey] !== generator) return undefined;
  return { buffer, callback: callbackKey, generator: generatorKey };
})();

function userBufferHandle(socket: Socket): UserBufferHandle | undefined {
  const handle = (socket as unknown as { readonly _handle?: Partial<UserBufferHandle> | null })._handle;
  return typeof handle?.useUserBuffer === 'function' ? (handle as UserBufferHandle) : undefined;
}

/**
 * From now on, hands every chunk the socket reads to `onChunk` in a recycled buffer instead of emitting 'data';
 * 'end', 'error', 'close', timeouts and byte counts are unchanged, and pause()/resume() stop and start the reads.
 * Bytes the socket had already buffered (put back by protocol detection, say) go to `onChunk` first, in their own
 * buffers. A TLS socket gets its decrypted bytes, gathered (see `RecordGatherer`). Returns false, changing nothing, for
 * a socket this cannot apply to (destroyed, already reading into its own buffers, or a Node without the fields): the
 * caller reads it the usual way. The socket must have no 'data' listener.
 */
export function readIntoRecycledBuffers(socket: Socket, onChunk: RecycledChunkHandler): boolean {
  if (onreadFields === undefined || socket.destroyed) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  const handle = fields[onreadFields.buffer] ? undefined : userBufferHandle(socket);
  if (handle === undefined) return false;
  if ((socket as Partial<TLSSocket>).encrypted === true) {
    new RecordGatherer(socket, handle, onreadFields, onChunk).start();
  } else {
    let nextSize = SMALL_READ_BUFFER_BYTES;
    const first = takeBuffer(nextSize);
    fields[onreadFields.buffer] = first;
    // Node asks for the next buffer right after each callback.
    fields[onreadFields.generator] = () => takeBuffer(nextSize);
    fields[onreadFields.callback] = (length: number, buffer: Buffer) => {
      nextSize = bufferSizeAfter(length);
      return onChunk(buffer.subarray(0, length), () => giveBack(buffer));
    };
    handle.useUserBuffer(first);
  }
  // Reads start on a later turn of the event loop; the buffered bytes go first, now, and a pause() the handler makes
  // while taking them stands.
  socket.resume();
  let paused = false;
  for (let buffered = socket.read() as Buffer | null; buffered !== null; buffered = socket.read() as Buffer | null) {
    if (onChunk(buffered, leaveToCollector) === false) paused = true;
  }
  if (paused) socket.pause();
  return true;
}

/**
 * A TLS socket hands over its decrypted bytes one record (at most 16 KiB) per callback, several per read from the
 * network; relayed as they come, each would cost the writer a system call. The gatherer lets the records of one turn
 * of the event loop land one after another in the same buffer (each read gets the rest of it) and hands the buffer
 * over once it is full, or once the turn's reads are done (`setImmediate`), or before the socket's 'end' is seen.
 */
class RecordGatherer {
  private buffer = takeBuffer(SMALL_READ_BUFFER_BYTES);
  private filled = 0;
  private flushScheduled = false;

  constructor(
    private readonly socket: Socket,
    private readonly handle: UserBufferHandle,
    private readonly keys: OnreadFields,
    private readonly onChunk: RecycledChunkHandler,
  ) {}

  start(): void {
    const fields = this.socket as unknown as Record<symbol, unknown>;
    fields[this.keys.buffer] = this.buffer;
    fields[this.keys.generator] = () => this.nextReadBuffer();
    fields[this.keys.callback] = (length: number) => this.onRead(length);
    this.handle.useUserBuffer(this.buffer);
    // 'end' listeners registered later (the relay's) run after this one, so nothing gathered is left behind.
    this.socket.on('end', () => this.flush());
  }

  /** Where the next read lands: the rest of the buffer being gathered. */
  private nextReadBuffer(): Buffer {
    return this.filled === 0 ? this.buffer : this.buffer.subarray(this.filled);
  }

  private onRead(length: number): boolean {
    this.filled += length;
    if (this.filled === this.buffer.length) return this.handOver(bufferSizeAfter(this.filled));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(RecordGatherer.flushLater, this);
    }
    return true;
  }

  private static flushLater(gatherer: RecordGatherer): void {
    gatherer.flushScheduled = false;
    gatherer.flush();
  }

  /** Hands over what is gathered, outside a read (none can land meanwhile), then moves the socket's reads to the fresh buffer. */
  private flush(): void {
    if (this.filled === 0) return;
    if (this.handOver(bufferSizeAfter(this.filled)) === false) this.socket.pause();
    if (!this.socket.destroyed) this.handle.useUserBuffer(this.buffer);
    (this.socket as unknown as Record<symbol, unknown>)[this.keys.buffer] = this.buffer;
  }

  /** Gives the gathered bytes to the handler and starts a new buffer of `nextSize`; returns the handler's answer. */
  private handOver(nextSize: number): boolean {
    const full = this.buffer;
    const bytes = full.subarray(0, this.filled);
    this.buffer = takeBuffer(nextSize);
    this.filled = 0;
    return this.onChunk(bytes, () => giveBack(full));
  }
}

/** The release of a chunk that is its own buffer, not a recycled one: nothing to give back. */
function leaveToCollector(): void {
  return undefined;
}
