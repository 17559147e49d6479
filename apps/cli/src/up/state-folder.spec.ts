import { inspectCertificate } from '@weft/adapter-x509';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareStateFolder, StateFolderError } from './state-folder.js';

const YEAR = 365 * 24 * 3_600_000;
let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'weft-up-state-')), 'state');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

describe('prepareStateFolder', () => {
  it('makes a trust anchor, an issuer it signed and a token key, readable by the owner only', async () => {
    const state = await prepareStateFolder(dir, 'example.org', Date.now());
    expect(state.made).toEqual([join(dir, 'ca.crt'), join(dir, 'issuer.crt'), join(dir, 'token.key')]);
    expect(state.caFile).toBe(join(dir, 'ca.crt'));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const key of ['ca.key', 'issuer.key', 'token.key']) expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
    const anchors = await readFile(join(dir, 'ca.crt'), 'utf8');
    const issuer = inspectCertificate(await readFile(join(dir, 'issuer.crt'), 'utf8'), { now: Date.now(), trustAnchorsPem: anchors });
    expect(issuer.ok && issuer.value[0]?.chain.status).toBe('trusted');
  });

  it('keeps what it finds on the next run', async () => {
    const first = await prepareStateFolder(dir, 'cluster.local', Date.now());
    const anchor = await readFile(join(dir, 'ca.crt'), 'utf8');
    const second = await prepareStateFolder(dir, 'cluster.local', Date.now());
    expect(second.made).toEqual([]);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(anchor);
    expect(second.tokenKey.keyId).toBe(first.tokenKey.keyId);
  });

  it('refuses an anchor made for another trust domain, naming both', async () => {
    await prepareStateFolder(dir, 'cluster.local', Date.now());
    const error = await prepareStateFolder(dir, 'example.org', Date.now()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateFolderError);
    expect((error as Error).message).toContain('spiffe://cluster.local');
    expect((error as Error).message).toContain('spiffe://example.org');
  });

  it('replaces an expired issuer with one signed by the anchor it finds', async () => {
    await prepareStateFolder(dir, 'cluster.local', Date.now() - 2 * YEAR);
    const anchor = await readFile(join(dir, 'ca.crt'), 'utf8');
    const state = await prepareStateFolder(dir, 'cluster.local', Date.now());
    expect(state.made).toEqual([join(dir, 'issuer.crt')]);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(anchor);
    const issuer = inspectCertificate(await readFile(join(dir, 'issuer.crt'), 'utf8'), { now: Date.now(), trustAnchorsPem: anchor });
    expect(issuer.ok && issuer.value[0]?.validity).toBe('valid');
  });

  it('says which files are missing when only some are there', async () => {
    await prepareStateFolder(dir, 'cluster.local', Date.now());
    await unlink(join(dir, 'issuer.key'));
    await expect(prepareStateFolder(dir, 'cluster.local', Date.now())).rejects.toThrow(/but not issuer\.key/);
  });
});
