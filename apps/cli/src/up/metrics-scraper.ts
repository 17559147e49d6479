// Scrapes each proxy's admin server (/metrics and /ready) and keeps a short history of its inbound totals.
import { type InboundSnapshot, inboundTotals } from './inbound-stats.js';
import { loopbackGet } from './loopback-http.js';
import { parsePrometheusText } from './prometheus-text.js';

export interface ScrapeTarget {
  /** The instance key. */
  readonly key: string;
  readonly adminPort: number;
}

export interface ProxyScrape {
  /** Scrapes oldest first, covering at least the window. */
  readonly history: readonly InboundSnapshot[];
  /** Whether /ready answered 200 at the last scrape. */
  readonly ready: boolean;
}

export class MetricsScraper {
  private readonly scrapes = new Map<string, { history: InboundSnapshot[]; ready: boolean }>();

  constructor(
    private readonly targets: readonly ScrapeTarget[],
    /** How much history to keep: the table's window. */
    private readonly windowMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    for (const target of targets) this.scrapes.set(target.key, { history: [], ready: false });
  }

  /** Scrapes every proxy once, in parallel; a proxy that does not answer keeps its history and counts as not ready. */
  async scrape(): Promise<void> {
    await Promise.all(this.targets.map((target) => this.scrapeOne(target)));
  }

  of(key: string): ProxyScrape {
    return this.scrapes.get(key) ?? { history: [], ready: false };
  }

  private async scrapeOne(target: ScrapeTarget): Promise<void> {
    const entry = this.scrapes.get(target.key);
    if (entry === undefined) return;
    const [metrics, ready] = await Promise.all([loopbackGet(target.adminPort, '/metrics'), loopbackGet(target.adminPort, '/ready', 1_000)]);
    entry.ready = ready?.status === 200;
    if (metrics?.status !== 200) return;
    const atMs = this.now();
    entry.history.push({ atMs, totals: inboundTotals(parsePrometheusText(metrics.body)) });
    // Keep one scrape older than the window, so the window is covered in full.
    while (entry.history.length > 2 && (entry.history[1]?.atMs ?? atMs) <= atMs - this.windowMs) entry.history.shift();
  }
}
