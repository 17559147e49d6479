import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadOrCreateTokenSigningKey,
  loadTokenSigningKey,
  TokenKeyFileError,
  writeTokenSigningKey,
} from './token-key-file.js';
import { generateTokenSigningKey, InvalidTokenKeyError, tokenSigningKeyFromPem, tokenSigningKeyToPem } from './token-signing-key.js';

describe('token signing key files', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-token-key-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key with mode 0600 when the file is missing, and reads the same key back afterwards', async () => {
    const path = join(dir, 'token.key');
    const created = await loadOrCreateTokenSigningKey(path);
    expect(created.created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const again = await loadOrCreateTokenSigningKey(path);
    expect(again.created).toBe(false);
    expect(again.key.keyId).toBe(created.key.keyId);
    expect((await loadTokenSigningKey(path)).keyId).toBe(created.key.keyId);
  });

  it('refuses to overwrite an existing file', async () => {
    const path = join(dir, 'token.key');
    await writeTokenSigningKey(path, generateTokenSigningKey());
    await expect(writeTokenSigningKey(path, generateTokenSigningKey())).rejects.toThrow(/cannot be created \(EEXIST\)/);
  });

  it('refuses a key file that others may read, saying how to fix it', async () => {
    const path = join(dir, 'token.key');
    await writeTokenSigningKey(path, generateTokenSigningKey());
    await chmod(path, 0o644);
    const error = await loadTokenSigningKey(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenKeyFileError);
    expect((error as TokenKeyFileError).path).toBe(path);
    expect(String(error)).toMatch(/has mode 0644.*chmod 600/);
  });

  it('refuses a missing file and a folder it cannot create in, naming the path', async () => {
    const missing = join(dir, 'nope.key');
    await expect(loadTokenSigningKey(missing)).rejects.toThrow(`"${missing}": cannot be read (ENOENT)`);
    const nowhere = join(dir, 'no-such-dir', 'token.key');
    await expect(loadOrCreateTokenSigningKey(nowhere)).rejects.toThrow(/no-such-dir.*cannot be created \(ENOENT\)/);
  });

  it('refuses a file that holds no Ed25519 key, without printing its content', async () => {
    const garbage = join(dir, 'garbage.key');
    await writeFile(garbage, 'secret-looking garbage', { mode: 0o600 });
    const error = await loadTokenSigningKey(garbage).catch((e: unknown) => e);
    expect(String(error)).toMatch(/holds no PEM private key/);
    expect(String(error)).not.toContain('secret-looking');

    const ec = join(dir, 'ec.key');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(ec, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await expect(loadTokenSigningKey(ec)).rejects.toThrow(/holds a ec key; workload tokens are signed with Ed25519/);
  });
});

describe('tokenSigningKeyFromPem', () => {
  it('reads back what tokenSigningKeyToPem wrote, with the same key id', () => {
    const key = generateTokenSigningKey();
    const read = tokenSigningKeyFromPem(tokenSigningKeyToPem(key), 'memory');
    expect(read.ok && read.value.keyId).toBe(key.keyId);
  });

  it('returns an InvalidTokenKeyError naming the source for bad PEM', () => {
    const result = tokenSigningKeyFromPem('nope', '/etc/weft/token.key');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidTokenKeyError);
    expect(result.error.input).toBe('/etc/weft/token.key');
    expect(result.error.message).toContain('/etc/weft/token.key');
  });
});
