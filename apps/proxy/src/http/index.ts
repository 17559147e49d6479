// The HTTP/1 forwarding path of the proxy: hardened server side, keep-alive upstream pools on llhttp, routes, retries, tunnels.
export * from './http1-proxy.js';
export * from './hardened-http1-server.js';
export * from './hop-by-hop-headers.js';
export * from './proxy-error.js';
export * from './upstream-pools.js';
export type { ForwardOptions } from './forward-context.js';
export type { BalancerFactory } from './outbound-target.js';
