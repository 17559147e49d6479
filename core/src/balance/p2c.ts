// Power of two choices: draw two endpoints at random and send the request to the less loaded one.
import type { RandomSource } from '../shared/random-source.port.js';

/** What the balancer needs to know about an endpoint. */
export interface BalancerEndpoint {
  /** The cost of one more request, e.g. PeakEwma.load(); lower is better. */
  load(): number;
  /** True while the endpoint should get no traffic (e.g. its circuit breaker is open). */
  readonly failing: boolean;
}

/**
 * Picks an endpoint among the non-failing ones: two distinct candidates drawn uniformly, the lower load wins (the
 * first drawn on a tie). One healthy endpoint is returned as is; with none, undefined, and the caller queues the
 * request and fails it fast if no endpoint becomes ready. Draws two numbers from `random`.
 */
export function pickP2c<T extends BalancerEndpoint>(endpoints: readonly T[], random: RandomSource): T | undefined {
  const healthy = endpoints.some((endpoint) => endpoint.failing) ? endpoints.filter((endpoint) => !endpoint.failing) : endpoints;
  const count = healthy.length;
  if (count <= 1) return healthy[0];
  const first = draw(random, count);
  // Draw from the other count - 1 endpoints so the second candidate always differs from the first.
  let second = draw(random, count - 1);
  if (second >= first) second += 1;
  const a = healthy[first] as T;
  const b = healthy[second] as T;
  return b.load() < a.load() ? b : a;
}

function draw(random: RandomSource, count: number): number {
  return Math.min(count - 1, Math.floor(random.next() * count));
}
