// Discovery: authorities, endpoints, the updates of an endpoint watch, the DiscoverEndpoints and ResolveName ports.
export * from './authority.js';
export * from './endpoint.js';
export * from './endpoint-update.js';
export * from './discover-endpoints.port.js';
export * from './resolve-name.port.js';
export * from './plan-name-lookup.js';
