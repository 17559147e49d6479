import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EVENT_LOOP_SAMPLE_MS, registerNodeProcessMetrics } from './node-process-metrics.js';
import { parseExposition, sumSamples } from './prometheus-text.spec-helper.js';

/** How many times this thread went to sleep and was woken (Linux counts it per thread). */
function wakeups(): number {
  const match = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'));
  if (match === null) throw new Error('/proc/thread-self/status has no voluntary_ctxt_switches line');
  return Number(match[1]);
}

/** The wakeups of this thread over `ms` of doing nothing. */
async function wakeupsWhileIdle(ms: number): Promise<number> {
  const before = wakeups();
  await sleep(ms);
  return wakeups() - before;
}

describe('registerNodeProcessMetrics', () => {
  it('carries the process series, event-loop delay among them, without the gauges promtool rejects', async () => {
    const registry = new Registry();
    registerNodeProcessMetrics(registry);
    await sleep(EVENT_LOOP_SAMPLE_MS * 3);
    const scraped = parseExposition(await registry.metrics());
    expect(sumSamples(scraped, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sumSamples(scraped, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(sumSamples(scraped, 'nodejs_active_handles')).toBeGreaterThan(0);
    expect(sumSamples(scraped, 'nodejs_active_handles_total')).toBeUndefined();
  });

  it('lets an idle process sleep: a few wakeups a second, where prom-client\'s default sampling makes a hundred', async () => {
    const idleMs = 1_000;
    const baseline = await wakeupsWhileIdle(idleMs);
    registerNodeProcessMetrics(new Registry());
    const withOurs = await wakeupsWhileIdle(idleMs);
    // The same series sampled as prom-client does by default (every 10 ms), to show the count sees the difference.
    collectDefaultMetrics({ register: new Registry() });
    const withDefault = await wakeupsWhileIdle(idleMs);
    expect(withOurs - baseline).toBeLessThanOrEqual((idleMs / EVENT_LOOP_SAMPLE_MS) * 2);
    expect(withDefault - baseline).toBeGreaterThan(50);
  });
});
