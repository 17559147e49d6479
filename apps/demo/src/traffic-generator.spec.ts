import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { formatHostPort, type HostPort } from './host-port.js';
import { startTrafficGenerator, type TrafficGenerator, type TrafficSettings, type TrafficStats } from './traffic-generator.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FakeWeb {
  readonly address: HostPort;
  readonly received: { path: string; host: string; at: number }[];
}

/** A stand-in for the web front end that records every request and answers with `answer` (or never). */
async function fakeWeb(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<FakeWeb> {
  const received: FakeWeb['received'] = [];
  const server: Server = createServer((request, response) => {
    received.push({ path: request.url ?? '', host: request.headers.host ?? '', at: performance.now() });
    answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { address: { host: '127.0.0.1', port: (server.address() as { port: number }).port }, received };
}

async function traffic(web: HostPort, settings: Partial<TrafficSettings> = {}): Promise<TrafficGenerator> {
  const generator = await startTrafficGenerator({ host: '127.0.0.1', port: 0, web, rate: 20, requestTimeoutMs: 5000, ...settings });
  cleanups.push(() => generator.close());
  return generator;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the demo traffic generator', () => {
  it('calls only the address it is given, over the mix of web routes, and counts every answer', async () => {
    const web = await fakeWeb((request, response) => {
      response.writeHead(request.url === '/api/items' ? 502 : 200);
      response.end('{}');
    });
    const generator = await traffic(web.address, { rate: 50 });
    await sleep(1200);
    await generator.close();
    const stats = generator.stats();

    expect(stats.sent).toBeGreaterThan(20);
    expect(stats.inFlight).toBe(0);
    expect(web.received).toHaveLength(stats.sent);
    expect(new Set(web.received.map((request) => request.host))).toEqual(new Set([formatHostPort(web.address)]));
    for (const { path } of web.received) expect(path).toMatch(/^\/(api\/items(\/[1-8])?|api\/feed\?n=3|healthz)?$/);
    expect(new Set(web.received.map(({ path }) => path.replace(/\/[1-8]$/, '/:id'))).size).toBeGreaterThanOrEqual(4);

    const lists = web.received.filter((request) => request.path === '/api/items').length;
    expect(stats.statuses).toEqual({ ...(lists > 0 ? { '502': lists } : {}), '200': stats.sent - lists });
    expect([stats.succeeded, stats.failed]).toEqual([stats.sent - lists, lists]);
    expect(stats.routes['GET /api/items']).toEqual({ sent: lists, succeeded: 0, failed: lists });
    expect(Object.values(stats.routes).reduce((sum, route) => sum + route.sent, 0)).toBe(stats.sent);
  });

  it('keeps to its rate: no more than RATE requests in any second', async () => {
    const web = await fakeWeb((_request, response) => response.end());
    const generator = await traffic(web.address, { rate: 10 });
    await sleep(2100);
    await generator.close();
    const times = web.received.map((request) => request.at);
    expect(times.length).toBeGreaterThanOrEqual(10);
    for (const at of times) expect(times.filter((other) => other >= at && other < at + 1000).length).toBeLessThanOrEqual(11);
  });

  it('never has more than its bound of requests in flight when the web does not answer, and times them out', async () => {
    const web = await fakeWeb(() => undefined);
    const generator = await traffic(web.address, { rate: 50, requestTimeoutMs: 700 });
    await sleep(600);
    expect(generator.stats().maxInFlight).toBe(50);
    const generatorAtBound = await traffic(web.address, { rate: 5, requestTimeoutMs: 60_000 });
    await sleep(1500);
    // At 5/s the bound is 5 in flight: the rest of the ticks are skipped, not queued.
    expect(generatorAtBound.stats()).toMatchObject({ maxInFlight: 5, inFlight: 5, sent: 5 });
    expect(generatorAtBound.stats().skipped).toBeGreaterThan(0);
    await sleep(300);
    expect(generator.stats().statuses['timeout']).toBeGreaterThan(0);
  });

  it('serves its counts as JSON at /stats on its own port', async () => {
    const web = await fakeWeb((_request, response) => response.end());
    const generator = await traffic(web.address, { rate: 20 });
    await sleep(300);
    const response = await fetch(`http://${formatHostPort(generator.address)}/stats`);
    const stats = (await response.json()) as TrafficStats;
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(stats).toMatchObject({ target: formatHostPort(web.address), rate: 20 });
    expect(stats.sent).toBeGreaterThan(0);
    expect(Object.keys(stats.routes)).toEqual(['GET /api/items', 'GET /api/items/:id', 'GET /api/feed', 'GET /', 'GET /healthz']);
    expect((await fetch(`http://${formatHostPort(generator.address)}/other`)).status).toBe(404);
  });
});
