// ByteReader: a bounds-checked cursor over bytes; reading past the end marks it failed instead of throwing.
export class ByteReader {
  private position = 0;
  private broken = false;

  constructor(private readonly bytes: Uint8Array) {}

  /** True once a read ran past the end or a caller declared the content malformed. */
  get failed(): boolean {
    return this.broken;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  /** Marks the content malformed and stops further reads. */
  fail(): void {
    this.broken = true;
    this.position = this.bytes.length;
  }

  /** The next `count` bytes, or none (and failed) if fewer are left. */
  take(count: number): Uint8Array {
    if (count > this.remaining) {
      this.fail();
      return new Uint8Array(0);
    }
    const slice = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return slice;
  }

  skip(count: number): void {
    this.take(count);
  }

  /** All bytes not read yet. */
  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  u8(): number {
    return this.uint(1);
  }

  u16(): number {
    return this.uint(2);
  }

  /** A reader over a vector whose big-endian length takes `lengthBytes` bytes; a failed one if it is cut off. */
  vector(lengthBytes: 1 | 2 | 3): ByteReader {
    const length = this.uint(lengthBytes);
    const inner = new ByteReader(this.take(length));
    if (this.broken) inner.fail();
    return inner;
  }

  private uint(size: number): number {
    return this.take(size).reduce((value, byte) => value * 256 + byte, 0);
  }
}
