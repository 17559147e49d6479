// CsrFactory: makes a fresh key pair and the CSR for an identity; @weft/adapter-x509's createWorkloadCsr in production (x509-rules.ts).
import type { WorkloadIdentity } from '@weft/core';

/** A fresh private key, kept in memory only, and the DER CSR signed with it. */
export interface WorkloadKeyAndCsrPair {
  readonly csrDer: Uint8Array;
  readonly privateKeyPem: string;
}

export type CsrFactory = (identity: WorkloadIdentity) => Promise<WorkloadKeyAndCsrPair>;
