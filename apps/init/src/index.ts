// @weft/init: the interception planner, its command line and the iptables applier, for tests and other tools.
export * from './command-runner.js';
export * from './init-args.js';
export * from './init-argument-error.js';
export * from './interception-applier.js';
export * from './interception-plan.js';
export * from './port-list.js';
export * from './run-init.js';
