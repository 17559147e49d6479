// tarArchive: a small in-memory ustar writer, enough to copy a few files into a container with the engine's archive API.

export interface TarEntry {
  /** Relative path inside the archive, at most 100 bytes, e.g. "token". */
  readonly name: string;
  readonly content: string | Uint8Array;
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Modification time, epoch seconds; 0 when absent. */
  readonly mtime?: number;
}

const BLOCK = 512;

/**
 * The archive of `entries` (regular files only). Names must be relative, without "..", and fit the 100-byte name field.
 * @throws RangeError for a name that does not (a programming error: the names are ours).
 */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : Buffer.from(entry.content);
    parts.push(header(entry, content.length), content, Buffer.alloc(padding(content.length)));
  }
  // Two zero blocks end the archive.
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(entry: TarEntry, size: number): Buffer {
  checkName(entry.name);
  const block = Buffer.alloc(BLOCK);
  block.write(entry.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, entry.mode & 0o7777);
  writeOctal(block, 108, 8, entry.uid);
  writeOctal(block, 116, 8, entry.gid);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, entry.mtime ?? 0);
  block.write('0', 156, 1, 'ascii'); // a regular file
  block.write('ustar\u000000', 257, 8, 'ascii');
  // The checksum is computed with its own field as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (!Number.isInteger(value) || value < 0 || digits.length > length - 1) {
    throw new RangeError(`${value} does not fit a ${length}-byte tar header field`);
  }
  block.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

function checkName(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (name === '' || bytes > 100 || name.startsWith('/') || name.split('/').includes('..')) {
    throw new RangeError(`tar entry name ${JSON.stringify(name)} must be a relative path of 1 to 100 bytes without ".."`);
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
