// Balancing: peak-EWMA load per endpoint and power-of-two-choices selection.
export * from './peak-ewma.js';
export * from './p2c.js';
