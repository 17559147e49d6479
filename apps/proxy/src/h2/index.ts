// The HTTP/2 and gRPC forwarding path of the proxy: hardened h2c server side, pooled upstream sessions, routes, retries.
export * from './h2-proxy.js';
export * from './hardened-h2-server.js';
export * from './h2-upstream-sessions.js';
export * from './h2-headers.js';
export * from './h2-proxy-error.js';
export * from './reset-h2-stream.js';
