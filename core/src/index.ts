// @weft/core: the domain of the Weft service mesh, its pure algorithms and its ports. No I/O happens here.
export * from './shared/index.js';
export * from './time/index.js';
export * from './discovery/index.js';
export * from './routing/index.js';
export * from './balance/index.js';
export * from './identity/index.js';
export * from './policy/index.js';
export * from './protocol/index.js';
export * from './telemetry/index.js';
