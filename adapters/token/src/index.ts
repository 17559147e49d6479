// @weft/adapter-token: workload tokens the control plane issues and checks itself (local and Docker instances).
export * from './token-signing-key.js';
export * from './token-key-file.js';
export * from './workload-token-format.js';
export * from './signed-token-issuer.js';
export * from './signed-token-validator.js';
export * from './token.module.js';
