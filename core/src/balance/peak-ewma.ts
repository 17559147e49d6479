// PeakEwma: an endpoint's load as Linkerd measures it, a peak-sensitive moving average of RTT times the requests in flight.
import type { Clock } from '../time/clock.port.js';

export interface PeakEwmaOptions {
  /** The RTT assumed before the first answer; default 30 ms. */
  readonly defaultRttMs?: number;
  /** How fast old RTTs are forgotten (the time constant of the decay); default 10 s, at least 1 ms. */
  readonly decayMs?: number;
}

export const DEFAULT_PEAK_EWMA_RTT_MS = 30;
export const DEFAULT_PEAK_EWMA_DECAY_MS = 10_000;

/**
 * Tracks one endpoint, as tower's PeakEwma does for Linkerd:
 * - an RTT above the current estimate replaces it at once, so a slowing endpoint is avoided immediately;
 * - an RTT below it pulls the estimate towards it with weight `1 - exp(-elapsed / decay)`, where `elapsed` is the
 *   time since the estimate was last updated;
 * - reading the estimate (`rtt()`, `load()`) decays it the same way towards 0, so an endpoint that has not answered
 *   for a while looks cheap again and is tried, which lets a recovered endpoint win traffic back.
 * Not meant for concurrent use from several threads; JavaScript has none.
 */
export class PeakEwma {
  private readonly decayMs: number;
  private estimateMs: number;
  private updatedAtMs: number;
  private inFlight = 0;

  constructor(
    private readonly clock: Clock,
    options: PeakEwmaOptions = {},
  ) {
    this.decayMs = Math.max(1, options.decayMs ?? DEFAULT_PEAK_EWMA_DECAY_MS);
    this.estimateMs = Math.max(0, options.defaultRttMs ?? DEFAULT_PEAK_EWMA_RTT_MS);
    this.updatedAtMs = clock.now();
  }

  /** Records a round-trip time; negative or non-finite values are ignored. */
  observe(rttMs: number): void {
    if (!(rttMs >= 0 && Number.isFinite(rttMs))) return;
    this.update(rttMs);
  }

  /** A request to this endpoint starts. */
  start(): void {
    this.inFlight += 1;
  }

  /** A request ends, with its RTT when it got an answer (leave it out for a request that failed or was cancelled). */
  end(rttMs?: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (rttMs !== undefined) this.observe(rttMs);
  }

  /** Requests started and not yet ended. */
  pending(): number {
    return this.inFlight;
  }

  /** The RTT estimate in ms, decayed to now. */
  rtt(): number {
    return this.update(0);
  }

  /** The cost of sending one more request here: RTT estimate x (requests in flight + 1). Lower is better. */
  load(): number {
    return this.rtt() * (this.inFlight + 1);
  }

  private update(sampleMs: number): number {
    const now = this.clock.now();
    if (sampleMs > this.estimateMs) {
      this.estimateMs = sampleMs;
    } else {
      const weight = Math.exp(-Math.max(0, now - this.updatedAtMs) / this.decayMs);
      this.estimateMs = this.estimateMs * weight + sampleMs * (1 - weight);
    }
    this.updatedAtMs = Math.max(now, this.updatedAtMs);
    return this.estimateMs;
  }
}
