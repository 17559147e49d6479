// Policy: Servers, AuthorizationPolicies, authentications, default policies, compiled per port; authorize().
export * from './cidr.js';
export * from './identity-pattern.js';
export * from './authentication.js';
export * from './server.js';
export * from './authorization-policy.js';
export * from './policy-http-route.js';
export * from './default-policy.js';
export * from './inbound-server-policy.js';
export * from './policy-config-error.js';
export * from './compile-inbound-server-policy.js';
export * from './authorize.js';
export * from './discover-inbound-policy.port.js';
