// @weft/adapter-file: mesh.yaml (schema-checked, watched) behind the DiscoverEndpoints, DiscoverProfile and DiscoverInboundPolicy ports.
export * from './mesh-file.js';
export * from './mesh-file-error.js';
export * from './mesh-config.js';
export * from './mesh-schema.js';
export * from './parse-mesh-file.js';
export * from './file-mesh-source.js';
export * from './file-discover-endpoints.js';
export * from './file-discover-profile.js';
export * from './file-discover-inbound-policy.js';
export * from './file.module.js';
