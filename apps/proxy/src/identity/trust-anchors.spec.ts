import { FixedClock } from '@weft/adapter-memory';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityInputError } from './identity-input-error.js';
import { checkX509TrustAnchors, pemBlocks, trustAnchorsReader } from './trust-anchors.js';

const NOW = Date.now();
const DAY_MS = 24 * 60 * 60 * 1_000;

// openssl, an independent tool, makes the certificates the check must accept or refuse.
async function selfSigned(dir: string, name: string, ca: boolean): Promise<{ certificate: string; key: string }> {
  const [keyFile, certFile] = [join(dir, `${name}.key`), join(dir, `${name}.pem`)];
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-subj', `/CN=${name}`, '-days', '2', '-addext', `basicConstraints=critical,CA:${ca ? 'TRUE' : 'FALSE'}`,
  ], { stdio: 'ignore' });
  return { certificate: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

describe('trust anchors', () => {
  let dir = '';
  let anchor = { certificate: '', key: '' };
  let leaf = { certificate: '', key: '' };
  let other = { certificate: '', key: '' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-anchors-'));
    [anchor, other, leaf] = await Promise.all([selfSigned(dir, 'anchor', true), selfSigned(dir, 'other', true), selfSigned(dir, 'leaf', false)]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts CA certificates, one or a bundle, with text around them', () => {
    expect(checkX509TrustAnchors(anchor.certificate, NOW)).toBeUndefined();
    expect(checkX509TrustAnchors(`# current\n${anchor.certificate}# next\n${other.certificate}`, NOW)).toBeUndefined();
    expect(pemBlocks(anchor.certificate + other.certificate)).toHaveLength(2);
  });

  it.each([
    ['nothing', () => '', /holds no PEM certificate/],
    ['a private key', () => anchor.certificate + anchor.key, /block 2 is a PRIVATE KEY; the file holds only CERTIFICATE blocks/],
    ['a certificate that is not a CA', () => leaf.certificate, /block 1 \(CN=leaf\) is not a CA certificate/],
    ['a damaged certificate', () => anchor.certificate.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!'), /block 1 is not an X\.509 certificate/],
  ])('refuses %s', (_what, pem, expected) => {
    expect(checkX509TrustAnchors(pem(), NOW)).toMatch(expected);
  });

  it('refuses a bundle whose every certificate has expired', () => {
    expect(checkX509TrustAnchors(anchor.certificate, NOW + 3 * DAY_MS)).toMatch(/every certificate in it has expired/);
  });

  it('reads the file, names the variable when it is missing or wrong, and picks up a rewritten file', async () => {
    const path = join(dir, 'bundle.pem');
    const read = trustAnchorsReader(path, checkX509TrustAnchors, new FixedClock(NOW));
    const missing = await read();
    expect(missing.ok ? undefined : missing.error).toBeInstanceOf(IdentityInputError);
    expect(missing.ok ? '' : missing.error.message).toMatch(/^WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE=".*bundle\.pem": cannot read the trust anchors file \(ENOENT/);

    await writeFile(path, leaf.certificate);
    const wrong = await read();
    expect(wrong.ok ? undefined : wrong.error).toMatchObject({ code: 'trust-anchors-invalid', variable: 'WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE' });
    expect(wrong.ok ? '' : wrong.error.message).toMatch(/: the trust anchors file block 1 \(CN=leaf\) is not a CA certificate/);

    await writeFile(path, anchor.certificate);
    expect(await read()).toEqual({ ok: true, value: anchor.certificate });
  });
});
