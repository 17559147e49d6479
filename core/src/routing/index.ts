// Routing: service profiles, HTTPRoute selection, traffic splits, retry budgets and the DiscoverProfile port.
export * from './invalid-route-error.js';
export * from './full-match-regex.js';
export * from './retry-budget.js';
export * from './service-profile.js';
export * from './http-route.js';
export * from './route-matcher.js';
export * from './traffic-split.js';
export * from './discover-profile.port.js';
