// Discovery: authorities, endpoints, the updates of an endpoint watch and the DiscoverEndpoints port.
export * from './authority.js';
export * from './endpoint.js';
export * from './endpoint-update.js';
export * from './discover-endpoints.port.js';
