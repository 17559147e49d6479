// Mesh mTLS between proxies: the outbound client, the inbound terminator, the leaf checks and their wiring.
export * from './attach-mutual-tls.js';
export * from './mesh-inbound-handlers.js';
export * from './mesh-leaf-check.js';
export * from './mesh-secure-context.js';
export * from './mesh-tls-client.js';
export * from './mesh-tls-terminator.js';
export * from './read-transport-header.js';
