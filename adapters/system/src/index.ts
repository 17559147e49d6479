// @weft/adapter-system: the host's wall clock and CSPRNG behind the core's Clock and RandomSource ports.
export * from './system-clock.js';
export * from './crypto-random-source.js';
export * from './system.module.js';
