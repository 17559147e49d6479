// The HTTP/1 forwarding path of the proxy, on llhttp over raw sockets: hardened server side, keep-alive upstream pools, routes, retries, tunnels.
export * from './http1-proxy.js';
export * from './hardened-http1-server.js';
export * from './hop-by-hop-headers.js';
export * from './proxy-error.js';
export * from './upstream-pools.js';
export type { ForwardOptions } from './forward-context.js';
export type { BalancerFactory } from './outbound-target.js';
