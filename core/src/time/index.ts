// Time in the core: the Clock port and durations.
export * from './clock.port.js';
export * from './duration.js';
