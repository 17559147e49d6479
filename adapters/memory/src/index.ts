// @weft/adapter-memory: an in-memory implementation of every core port, for unit tests and the memory orchestrator.
export * from './fixed-clock.js';
export * from './seeded-random.js';
export * from './in-memory-discover-endpoints.js';
export * from './in-memory-discover-profile.js';
export * from './in-memory-discover-inbound-policy.js';
export * from './in-memory-token-validator.js';
export * from './in-memory-certificate-authority.js';
export * from './in-memory-proxy-metrics.js';
export * from './memory.module.js';
export * from './in-memory-resolve-name.js';
