// Protocol: detection of HTTP/1, HTTP/2, TLS and opaque traffic from a connection's first bytes.
export * from './detect.js';
