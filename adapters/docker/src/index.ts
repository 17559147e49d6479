// @weft/adapter-docker: DiscoverEndpoints from the labelled containers of a Docker engine, followed through its events.
export * from './docker-engine.js';
export * from './dockerode-engine.js';
export * from './docker-events-stream.js';
export * from './docker-workload.js';
export * from './docker-endpoint-index.js';
export * from './docker-discover-endpoints.js';
export * from './docker.module.js';
