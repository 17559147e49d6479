// Test PKI: a trust anchor, an issuer, a CA over them, hand-made bad leaves, and openssl as an independent peer.
import type { Clock, WorkloadIdentity } from '@weft/core';
import { execFile } from 'node:child_process';
import type { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CaMaterial, createIssuer, createTrustAnchor, loadSigner } from './ca-material.js';
import { exportPrivateKeyPem } from './pem.js';
import {
  BasicConstraintsExtension,
  type Extension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type JsonGeneralNames,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from './peculiar-x509.js';
import { randomSerialNumber } from './serial-number.js';
import { createWorkloadCsr } from './workload-csr.js';
import { X509CertificateAuthority } from './x509-certificate-authority.js';

export const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' };
export const voting: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'voting' };
export const WEB_NAME = 'web.emojivoto.serviceaccount.identity.weft.cluster.local';
export const WEB_URI = 'spiffe://cluster.local/ns/emojivoto/sa/web';

/** A clock that stands still until a test moves it. */
export class TestClock implements Clock {
  constructor(public current: number) {}

  now(): number {
    return this.current;
  }
}

export interface TestPki {
  readonly anchor: CaMaterial;
  readonly issuer: CaMaterial;
  readonly clock: TestClock;
  readonly authority: X509CertificateAuthority;
}

/** An anchor and issuer made at NOW, and a CA with the issuer loaded whose clock stands at NOW. */
export async function makeTestPki(trustDomain = 'cluster.local'): Promise<TestPki> {
  const anchor = await createTrustAnchor({ trustDomain, now: NOW - DAY });
  const issuer = await createIssuer({ anchor, now: NOW - DAY });
  const clock = new TestClock(NOW);
  const authority = new X509CertificateAuthority(clock, { trustAnchorsPem: anchor.certificatePem });
  const loaded = await authority.loadIssuer(issuer);
  if (!loaded.ok) throw loaded.error;
  return { anchor, issuer, clock, authority };
}

/** A leaf for `identity` issued by the CA, as the chain a proxy presents (leaf, issuer) and its key. */
export async function issueLeaf(pki: TestPki, identity: WorkloadIdentity = web): Promise<{ chain: string[]; keyPem: string }> {
  const { csrDer, privateKeyPem } = await createWorkloadCsr(identity);
  const issued = await pki.authority.certify({ csr: csrDer, identity });
  if (!issued.ok) throw issued.error;
  return { chain: [issued.value.leafPem, ...issued.value.chainPem], keyPem: privateKeyPem };
}

export type TestKey = 'P-256' | 'P-384' | 'RSA' | 'Ed25519';

export async function generateKeys(key: TestKey): Promise<webcrypto.CryptoKeyPair> {
  const usages: webcrypto.KeyUsage[] = ['sign', 'verify'];
  switch (key) {
    case 'P-256':
    case 'P-384':
      return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: key }, true, usages) as Promise<webcrypto.CryptoKeyPair>;
    case 'RSA':
      return crypto.subtle.generateKey(
        { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        true,
        usages,
      ) as Promise<webcrypto.CryptoKeyPair>;
    case 'Ed25519':
      return crypto.subtle.generateKey({ name: 'Ed25519' }, true, usages) as unknown as Promise<webcrypto.CryptoKeyPair>;
  }
}

export function signingAlgorithm(key: TestKey): webcrypto.Algorithm | webcrypto.EcdsaParams {
  if (key === 'RSA') return { name: 'RSASSA-PKCS1-v1_5' };
  if (key === 'Ed25519') return { name: 'Ed25519' };
  return { name: 'ECDSA', hash: 'SHA-256' };
}

export interface LeafSpec {
  readonly names?: JsonGeneralNames;
  readonly ca?: boolean;
  readonly keyUsage?: number;
  readonly keyUsageCritical?: boolean;
  readonly extendedKeyUsage?: readonly string[];
  readonly key?: TestKey;
  readonly notBefore?: number;
  readonly notAfter?: number;
}

/** A leaf shaped like a good workload leaf for `web`, signed by `signer`, with the given parts changed. */
export async function makeLeaf(signer: CaMaterial, spec: LeafSpec = {}): Promise<string> {
  const loaded = await loadSigner(signer, { certificate: 'signer', key: 'signer key' });
  if (!loaded.ok) throw loaded.error;
  const keys = await generateKeys(spec.key ?? 'P-256');
  const extensions: Extension[] = [
    new BasicConstraintsExtension(spec.ca ?? false, undefined, true),
    new KeyUsagesExtension(spec.keyUsage ?? KeyUsageFlags.digitalSignature, spec.keyUsageCritical ?? true),
    new ExtendedKeyUsageExtension(spec.extendedKeyUsage ?? [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
    new SubjectAlternativeNameExtension(
      spec.names ?? [
        { type: 'dns', value: WEB_NAME },
        { type: 'url', value: WEB_URI },
      ],
      true,
    ),
  ];
  const certificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: '',
    issuer: loaded.value.certificate.x509.subjectName,
    notBefore: new Date(spec.notBefore ?? NOW - HOUR),
    notAfter: new Date(spec.notAfter ?? NOW + HOUR),
    publicKey: keys.publicKey,
    signingKey: loaded.value.signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return certificate.toString('pem') + '\n';
}

export interface CsrSpec {
  readonly key?: TestKey;
  readonly names?: JsonGeneralNames;
  /** Flips a bit of the signature, so the CSR still parses but no longer verifies. */
  readonly tamper?: boolean;
}

/** A DER CSR for `web` (its DNS SAN), with the given parts changed. */
export async function makeCsr(spec: CsrSpec = {}): Promise<Uint8Array> {
  const key = spec.key ?? 'P-256';
  const csr = await Pkcs10CertificateRequestGeneratorCreate(key, spec.names ?? [{ type: 'dns', value: WEB_NAME }]);
  const der = new Uint8Array(csr.rawData);
  if (spec.tamper === true) der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  return der;
}

async function Pkcs10CertificateRequestGeneratorCreate(key: TestKey, names: JsonGeneralNames): Promise<Pkcs10CertificateRequest> {
  const { Pkcs10CertificateRequestGenerator } = await import('./peculiar-x509.js');
  return Pkcs10CertificateRequestGenerator.create({
    keys: await generateKeys(key),
    signingAlgorithm: signingAlgorithm(key),
    extensions: names.length === 0 ? [] : [new SubjectAlternativeNameExtension(names)],
  });
}

/** A fresh private key PEM (for tests that need a key that belongs to nothing). */
export async function strayKeyPem(): Promise<string> {
  return exportPrivateKeyPem((await generateKeys('P-256')).privateKey);
}

const run = promisify(execFile);

/** A temporary folder with the given files written in it; `remove()` deletes it. */
export async function tempFiles(files: Record<string, string | Uint8Array> = {}): Promise<{ dir: string; path(name: string): string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-x509-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return { dir, path: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs openssl; resolves with its exit code and output, whatever the code. */
export async function openssl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('openssl', [...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
