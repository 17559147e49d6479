// The proxy's admin surface: the admin server, readiness, graceful shutdown and its signal handling.
export * from './accepts-gzip.js';
export * from './graceful-shutdown.js';
export * from './is-loopback-address.js';
export * from './proxy-admin-server.js';
export * from './readiness.js';
export * from './shutdown-signals.js';
