import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityInputError } from './identity-input-error.js';
import { identityTokenReader } from './identity-token.js';

describe('identityTokenReader', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-token-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives an inline token as it is', async () => {
    expect(await identityTokenReader({ kind: 'inline', value: 'abc' })()).toEqual({ ok: true, value: 'abc' });
  });

  it('reads the token file again on each call, as Kubernetes rotates it', async () => {
    const path = join(dir, 'token');
    await writeFile(path, 'first-token');
    const read = identityTokenReader({ kind: 'file', path });
    expect(await read()).toEqual({ ok: true, value: 'first-token' });
    await writeFile(path, 'second-token\n');
    expect(await read()).toEqual({ ok: true, value: 'second-token' });
  });

  it('names the variable and the path of a missing file', async () => {
    const path = join(dir, 'absent');
    const result = await identityTokenReader({ kind: 'file', path })();
    if (result.ok) throw new Error('read a missing file');
    expect(result.error).toBeInstanceOf(IdentityInputError);
    expect(result.error).toMatchObject({ code: 'token-unreadable', variable: 'WEFT_PROXY_IDENTITY_TOKEN_FILE' });
    expect(result.error.message).toMatch(/^WEFT_PROXY_IDENTITY_TOKEN_FILE=".*absent": cannot read the token file \(ENOENT/);
  });

  it('refuses an empty file', async () => {
    const path = join(dir, 'token');
    await writeFile(path, ' \n');
    const result = await identityTokenReader({ kind: 'file', path })();
    expect(result.ok ? '' : result.error.message).toMatch(/^WEFT_PROXY_IDENTITY_TOKEN_FILE=".*token": the token file is empty/);
  });
});
