// Shared building blocks of the core: results, typed input errors, subscriptions and their publisher, randomness.
export * from './result.js';
export * from './invalid-input-error.js';
export * from './subscription.js';
export * from './keyed-publisher.js';
export * from './random-source.port.js';
export * from './dns-name.js';
export * from './http-token.js';
