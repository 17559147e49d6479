// @weft/contracts: the generated wire contracts (one namespace per proto package) and the transport header framing.
export * as destination from './gen/weft/destination/v1/destination.js';
export * as identity from './gen/weft/identity/v1/identity.js';
export * as net from './gen/weft/net/v1/net.js';
export * as policy from './gen/weft/policy/v1/policy.js';
export * as tap from './gen/weft/tap/v1/tap.js';
export * as transport from './gen/weft/transport/v1/transport.js';
export { Duration } from './gen/google/protobuf/duration.js';
export * from './protobuf-duration.js';
export * from './transport-header.js';
