// @weft/adapter-x509: workload identity with real X.509: CSRs, leaf checks, trust anchors, issuers and the CA.
export * from './workload-csr.js';
export * from './workload-leaf.js';
export * from './leaf-refusal.js';
export { type TrustAnchorSet, trustAnchorSet } from './certificate-chain.js';
export type { CertificateInput } from './parsed-certificate.js';
export * from './ca-material-error.js';
export {
  type CaMaterial,
  createIssuer,
  createTrustAnchor,
  DEFAULT_ISSUER_LIFETIME_MS,
  DEFAULT_TRUST_ANCHOR_LIFETIME_MS,
  type IssuerOptions,
  type MaterialSources,
  type TrustAnchorOptions,
} from './ca-material.js';
export * from './x509-certificate-authority.js';
export * from './issuer-files.js';
export * from './x509.module.js';
export * from './inspect-certificate.js';
