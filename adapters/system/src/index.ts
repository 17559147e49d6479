// @weft/adapter-system: the host's wall clock, CSPRNG and DNS behind the core's Clock, RandomSource and ResolveName ports.
export * from './system-clock.js';
export * from './crypto-random-source.js';
export * from './dns-resolve-name.js';
export * from './system.module.js';
