// Public API of @weft/bench: options, contenders, output parsers, histogram, statistics and report rendering.
export * from './bench-options.js';
export * from './bench-report.js';
export * from './bench-results.js';
export * from './contender-command.js';
export * from './contender.js';
export * from './latency-histogram.js';
export * from './markdown-table.js';
export * from './open-loop-schedule.js';
export * from './parse-h2load-output.js';
export * from './parse-hey-output.js';
export * from './parse-wrk-output.js';
export * from './process-stats.js';
export * from './proxy-configs.js';
export * from './required-tools.js';
export * from './scenario-timing.js';
export * from './statistics.js';
export * from './tool-output-error.js';
