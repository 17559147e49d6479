// The demo traffic generator: calls the web front end at a bounded rate over a mix of routes and counts the outcomes.
import { Agent, createServer, request as httpRequest } from 'node:http';
import { type DemoEnv, EnvReader, type SettingsResult } from './demo-settings.js';
import { formatHostPort, type HostPort } from './host-port.js';
import { closeHttpServer, listenHttp, sendJson } from './http-helpers.js';
import type { RunningService } from './run-service.js';

export interface TrafficSettings {
  readonly host: string;
  /** Where /stats is served; 0 picks a free port. */
  readonly port: number;
  /** The web front end: a loopback address, nothing else is ever called. */
  readonly web: HostPort;
  /** Requests started per second. */
  readonly rate: number;
  /** A request that takes longer is abandoned and counted as a timeout. */
  readonly requestTimeoutMs: number;
}

/** What happened to the requests of one route (or of all). */
export interface TrafficCounts {
  sent: number;
  /** 2xx and 3xx answers. */
  succeeded: number;
  /** Other statuses, broken connections and timeouts. */
  failed: number;
}

/** The /stats document. */
export interface TrafficStats extends TrafficCounts {
  readonly target: string;
  readonly rate: number;
  readonly maxInFlight: number;
  readonly elapsedSeconds: number;
  readonly inFlight: number;
  /** Ticks on which no request started because maxInFlight were still waiting. */
  readonly skipped: number;
  /** Answers by status code, plus "error" (connection failed) and "timeout". */
  readonly statuses: Readonly<Record<string, number>>;
  readonly routes: Readonly<Record<string, TrafficCounts>>;
}

export interface TrafficGenerator extends RunningService {
  readonly address: HostPort;
  stats(): TrafficStats;
}

/** RATE is capped: the generator is a demo, not a load tester. */
export const MAX_TRAFFIC_RATE = 200;

/** How long a stop waits for requests in flight. */
const DRAIN_MS = 1_000;

/** The routes called, with their share of requests; `/api/feed` makes the web open a WebSocket to the feed. */
export const TRAFFIC_ROUTES: readonly { readonly name: string; readonly weight: number; path(random: () => number): string }[] = [
  { name: 'GET /api/items', weight: 30, path: () => '/api/items' },
  { name: 'GET /api/items/:id', weight: 45, path: (random) => `/api/items/${1 + Math.floor(random() * 8)}` },
  { name: 'GET /api/feed', weight: 5, path: () => '/api/feed?n=3' },
  { name: 'GET /', weight: 10, path: () => '/' },
  { name: 'GET /healthz', weight: 10, path: () => '/healthz' },
];

/** PORT (default 8090), HOST (127.0.0.1), WEB_ADDR (loopback host:port, required), RATE (10/s), REQUEST_TIMEOUT_MS (5000). */
export function readTrafficSettings(env: DemoEnv): SettingsResult<TrafficSettings> {
  const read = new EnvReader(env);
  return read.result({
    host: read.host('HOST', '127.0.0.1'),
    port: read.port('PORT', 8090),
    web: read.address('WEB_ADDR', { loopbackOnly: true }),
    rate: read.positive('RATE', 10, MAX_TRAFFIC_RATE, 'requests per second'),
    requestTimeoutMs: Math.max(read.milliseconds('REQUEST_TIMEOUT_MS', 5_000, 600_000), 1),
  });
}

/** Starts sending at once and serves the counts at GET /stats; `random` (default Math.random) picks the routes. */
export async function startTrafficGenerator(settings: TrafficSettings, random: () => number = Math.random): Promise<TrafficGenerator> {
  const maxInFlight = Math.min(64, Math.max(4, Math.ceil(settings.rate)));
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const counts = new TrafficCounter(TRAFFIC_ROUTES.map((route) => route.name));
  const startedAt = performance.now();
  let inFlight = 0;
  let skipped = 0;
  let stopped = false;

  const stats = (): TrafficStats => ({
    target: formatHostPort(settings.web),
    rate: settings.rate,
    maxInFlight,
    elapsedSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
    inFlight,
    skipped,
    ...counts.snapshot(),
  });
  const http = createServer((request, response) => {
    if (request.url === '/stats') return sendJson(response, 200, stats());
    if (request.url === '/healthz') return sendJson(response, 200, { status: 'ok' });
    sendJson(response, 404, { error: 'the traffic generator serves /stats and /healthz' });
  });
  const address = await listenHttp(http, settings.host, settings.port);

  const tick = () => {
    if (inFlight >= maxInFlight) {
      skipped += 1;
      return;
    }
    const route = pickRoute(random);
    inFlight += 1;
    counts.sent(route.name);
    send(settings, agent, route.path(random)).then((outcome) => {
      inFlight -= 1;
      if (!stopped) counts.settled(route.name, outcome);
    });
  };
  const timer = setInterval(tick, 1000 / settings.rate);

  return {
    address,
    stats,
    summary: `listening on ${formatHostPort(address)} (GET /stats), sending ${settings.rate} requests/s to ${formatHostPort(settings.web)}`,
    close: async () => {
      clearInterval(timer);
      // Requests in flight get a moment to finish and be counted; then the rest are cut and not counted.
      const deadline = performance.now() + DRAIN_MS;
      while (inFlight > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      stopped = true;
      agent.destroy();
      await closeHttpServer(http);
    },
  };
}

function pickRoute(random: () => number): (typeof TRAFFIC_ROUTES)[number] {
  const total = TRAFFIC_ROUTES.reduce((sum, route) => sum + route.weight, 0);
  let left = random() * total;
  for (const route of TRAFFIC_ROUTES) {
    left -= route.weight;
    if (left < 0) return route;
  }
  return TRAFFIC_ROUTES[0] as (typeof TRAFFIC_ROUTES)[number];
}

/** One GET to the web; resolves with the status code, "error" or "timeout", never rejects. */
function send(settings: TrafficSettings, agent: Agent, path: string): Promise<string> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = httpRequest({ host: settings.web.host, port: settings.web.port, path, method: 'GET', agent }, (response) => {
      response.resume();
      response.on('end', () => finish(String(response.statusCode ?? 0)));
      response.on('error', () => finish('error'));
    });
    const timer = setTimeout(() => {
      finish('timeout');
      request.destroy();
    }, settings.requestTimeoutMs);
    request.on('error', () => finish('error'));
    request.end();
  });
}

class TrafficCounter {
  private readonly total: TrafficCounts = { sent: 0, succeeded: 0, failed: 0 };
  private readonly routes: Record<string, TrafficCounts> = {};
  private readonly statuses: Record<string, number> = {};

  constructor(routeNames: readonly string[]) {
    for (const name of routeNames) this.routes[name] = { sent: 0, succeeded: 0, failed: 0 };
  }

  sent(route: string): void {
    this.total.sent += 1;
    this.route(route).sent += 1;
  }

  settled(route: string, outcome: string): void {
    const success = /^[23]\d\d$/.test(outcome);
    const field = success ? 'succeeded' : 'failed';
    this.total[field] += 1;
    this.route(route)[field] += 1;
    this.statuses[outcome] = (this.statuses[outcome] ?? 0) + 1;
  }

  snapshot(): TrafficCounts & Pick<TrafficStats, 'statuses' | 'routes'> {
    const routes = Object.fromEntries(Object.entries(this.routes).map(([name, counts]) => [name, { ...counts }]));
    return { ...this.total, statuses: { ...this.statuses }, routes };
  }

  private route(name: string): TrafficCounts {
    const counts = this.routes[name] ?? { sent: 0, succeeded: 0, failed: 0 };
    this.routes[name] = counts;
    return counts;
  }
}
