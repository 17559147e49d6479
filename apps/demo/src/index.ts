// @weft/demo: the demo mesh's services (entry files src/<name>.ts, built to dist/<name>.js) and the demo mesh file.
export * from './catalog-client.js';
export * from './catalog-items.js';
export * from './catalog-proto.js';
export * from './catalog-server.js';
export * from './demo-mesh-file.js';
export * from './demo-settings.js';
export * from './feed-client.js';
export * from './feed-server.js';
export * from './host-port.js';
export * from './run-service.js';
export * from './traffic-generator.js';
export * from './web-server.js';
