// createWorkloadCsr: a fresh ECDSA P-256 key for a workload and the CSR that asks the CA to certify it.
import { identityName, type WorkloadIdentity } from '@weft/core';
import { exportPrivateKeyPem } from './pem.js';
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from './peculiar-x509.js';

export interface WorkloadKeyAndCsr {
  /** The DER-encoded PKCS#10 request, signed with the new key. */
  readonly csrDer: Uint8Array;
  /** The new private key as PKCS#8 PEM, for node:tls; keep it in memory, never write it to disk. */
  readonly privateKeyPem: string;
}

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/**
 * Generates a fresh ECDSA P-256 key pair and a CSR with an empty subject and exactly one name, the DNS SAN
 * identityName(identity). The key is extractable only so that node:tls can be given it as PEM.
 */
export async function createWorkloadCsr(identity: WorkloadIdentity): Promise<WorkloadKeyAndCsr> {
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const csr = await Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [new SubjectAlternativeNameExtension([{ type: 'dns', value: identityName(identity) }])],
  });
  return { csrDer: new Uint8Array(csr.rawData), privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
}
