// The proxy's tap: the hub the HTTP paths publish to, and the gRPC server that streams matching events.
export type { TapCallEnd } from './tap-call-writer.js';
export * from './tap-header-deny-list.js';
export * from './tap-headers.js';
export * from './tap-hub.js';
export * from './tap-observe-request.js';
export * from './tap-server.js';
