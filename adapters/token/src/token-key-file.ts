// Token signing key files: read the control plane's Ed25519 key from a PEM file, or create one readable by its owner only.
import { open, readFile, stat } from 'node:fs/promises';
import { generateTokenSigningKey, type TokenSigningKey, tokenSigningKeyFromPem, tokenSigningKeyToPem } from './token-signing-key.js';

/** A key file that cannot be read, written or trusted; the message names the file and what to do. */
export class TokenKeyFileError extends Error {
  override readonly name = 'TokenKeyFileError';

  constructor(
    readonly path: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`token signing key ${JSON.stringify(path)}: ${reason}`, options);
  }
}

export interface LoadedTokenSigningKey {
  readonly key: TokenSigningKey;
  /** True when the file did not exist and was created with a fresh key. */
  readonly created: boolean;
}

/**
 * Reads the key at `path`. Refuses a file that group or others may read or write (like ssh does for private keys),
 * a file that holds no Ed25519 private key, and a missing file.
 */
export async function loadTokenSigningKey(path: string): Promise<TokenSigningKey> {
  let mode: number;
  let pem: string;
  try {
    mode = (await stat(path)).mode;
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    throw new TokenKeyFileError(path, `cannot be read (${errorCode(cause)})`, { cause });
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new TokenKeyFileError(path, `has mode ${octal}, so others may read the key; run chmod 600 on it`);
  }
  const key = tokenSigningKeyFromPem(pem, path);
  if (!key.ok) throw new TokenKeyFileError(path, key.error.reason);
  return key.value;
}

/** Writes `key` to a new file at `path` with mode 0600; refuses to overwrite an existing file. */
export async function writeTokenSigningKey(path: string, key: TokenSigningKey): Promise<void> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (cause) {
    throw new TokenKeyFileError(path, `cannot be created (${errorCode(cause)})`, { cause });
  }
  try {
    await file.writeFile(tokenSigningKeyToPem(key), 'utf8');
    // The mode given to open() is narrowed by the umask only; chmod makes it exactly 0600 whatever the umask.
    await file.chmod(0o600);
  } finally {
    await file.close();
  }
}

/** Reads the key at `path`, or, when no file is there, generates one and writes it with mode 0600. */
export async function loadOrCreateTokenSigningKey(path: string): Promise<LoadedTokenSigningKey> {
  try {
    const key = generateTokenSigningKey();
    await writeTokenSigningKey(path, key);
    return { key, created: true };
  } catch (error) {
    // Another process (or an earlier run) made the file first: read that one.
    if (!(error instanceof TokenKeyFileError && errorCode(error.cause) === 'EEXIST')) throw error;
  }
  return { key: await loadTokenSigningKey(path), created: false };
}

function errorCode(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(cause);
}
