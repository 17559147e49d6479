// The benchmark's own mesh identity: a fresh trust anchor, issuer and token key in a temporary folder, tokens and leaves from them.
import { SignedTokenIssuer, loadOrCreateTokenSigningKey } from '@weft/adapter-token';
import { type CaMaterial, createIssuer, createTrustAnchor, createWorkloadCsr, X509CertificateAuthority } from '@weft/adapter-x509';
import type { Clock, WorkloadIdentity } from '@weft/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file names `weft identity init` writes and `weft-control --identity-dir` reads. */
export const IDENTITY_DIR_FILES = { trustAnchors: 'ca.crt', issuerCertificate: 'issuer.crt', issuerKey: 'issuer.key', tokenKey: 'token.key' } as const;

export const BENCH_TRUST_DOMAIN = 'cluster.local';

/** A workload of the benchmark mesh: namespace `default`, the given service account. */
export function benchWorkload(serviceAccount: string): WorkloadIdentity {
  return { trustDomain: BENCH_TRUST_DOMAIN, namespace: 'default', serviceAccount };
}

/** A leaf certificate (followed by its issuer) and its private key, both PEM, as node:tls takes them. */
export interface WorkloadCredentials {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

export interface MeshIdentityMaterial {
  /** The folder for `weft-control --identity-dir`: ca.crt, issuer.crt, issuer.key and token.key. */
  readonly dir: string;
  readonly trustAnchorsFile: string;
  readonly trustAnchorsPem: string;
  readonly issuer: CaMaterial;
  readonly tokenKeyFile: string;
  /** Writes a signed token proving `identity` (as the control plane issues them) to `file`, mode 0600. */
  writeToken(identity: WorkloadIdentity, file: string): void;
  /** A leaf for `identity` from the same issuer, signed in this process (for the benchmark's own TLS client). */
  issueLeaf(identity: WorkloadIdentity): Promise<WorkloadCredentials>;
}

const systemClock: Clock = { now: () => Date.now() };

/** Creates the anchor, the issuer and the token key in `dir` (created if missing). */
export async function createMeshIdentityMaterial(dir: string): Promise<MeshIdentityMaterial> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const anchor = await createTrustAnchor({ trustDomain: BENCH_TRUST_DOMAIN, now: Date.now() });
  const issuer = await createIssuer({ anchor, now: Date.now() });
  const trustAnchorsFile = join(dir, IDENTITY_DIR_FILES.trustAnchors);
  writeFileSync(trustAnchorsFile, anchor.certificatePem);
  writeFileSync(join(dir, IDENTITY_DIR_FILES.issuerCertificate), issuer.certificatePem);
  writeFileSync(join(dir, IDENTITY_DIR_FILES.issuerKey), issuer.privateKeyPem, { mode: 0o600 });
  const tokenKeyFile = join(dir, IDENTITY_DIR_FILES.tokenKey);
  const { key } = await loadOrCreateTokenSigningKey(tokenKeyFile);
  const tokens = new SignedTokenIssuer(key, systemClock);
  const authority = new X509CertificateAuthority(systemClock, { trustAnchorsPem: anchor.certificatePem });
  const loaded = await authority.loadIssuer(issuer);
  if (!loaded.ok) throw loaded.error;
  return {
    dir,
    trustAnchorsFile,
    trustAnchorsPem: anchor.certificatePem,
    issuer,
    tokenKeyFile,
    writeToken: (identity, file) => {
      const token = tokens.issue(identity);
      if (!token.ok) throw token.error;
      writeFileSync(file, token.value.token, { mode: 0o600 });
    },
    issueLeaf: async (identity) => {
      const { csrDer, privateKeyPem } = await createWorkloadCsr(identity);
      const issued = await authority.certify({ csr: csrDer, identity });
      if (!issued.ok) throw new Error(`the benchmark CA refused a leaf for its own client: ${issued.error.message}`);
      return { certificateChainPem: [issued.value.leafPem, ...issued.value.chainPem].join(''), privateKeyPem };
    },
  };
}
