// The Node process's own series (`process_*`, `nodejs_*`: CPU, memory, GC, event-loop delay) from prom-client, on a given registry.
import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * How often the event-loop delay is sampled, in milliseconds. prom-client's default of 10 ms arms a timer that wakes an
 * idle process 100 times a second (an idle proxy: 100 wakeups a second and 0.3-0.6 % of a core, against 12-14 and
 * 0.1-0.2 % at 100 ms). Any stall of 100 ms or more still lands in the histogram; shorter ones show in the proxy's own
 * latency series.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

// Gauges named like counters: promtool rejects them, and no dashboard of ours reads them.
const MISNAMED_NODE_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Registers the process series on `registry` (never the global one), without the misnamed gauges. */
export function registerNodeProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: '', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  for (const name of MISNAMED_NODE_GAUGES) registry.removeSingleMetric(name);
}
