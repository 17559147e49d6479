// Identity in the core: workload identities, certificate lifetimes, CSR admission, and the token and CA ports.
export * from './workload-identity.js';
export * from './certificate-lifetime.js';
export * from './csr-rules.js';
export * from './certify-refusal.js';
export * from './token-refusal.js';
export * from './certificate-authority.port.js';
export * from './token-validator.port.js';
export * from './identity-issuer.js';
export * from './workload-certifier.port.js';
export * from './certify-rate-limiter.js';
