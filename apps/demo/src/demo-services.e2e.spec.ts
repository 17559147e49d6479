import { createServer } from 'node:net';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CatalogClient } from './catalog-client.js';
import { buildDemo, type DemoProcess, killDemoProcesses, runDemoProcessToExit, startDemoProcess } from './demo-process.spec-helper.js';
import { formatHostPort } from './host-port.js';
import type { TrafficStats } from './traffic-generator.js';

const started: DemoProcess[] = [];

async function start(...args: Parameters<typeof startDemoProcess>): Promise<DemoProcess> {
  const process = await startDemoProcess(...args);
  started.push(process);
  return process;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(() => buildDemo(), 120_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((process) => process.stop()));
});

afterAll(() => killDemoProcesses());

describe('the built demo services, as plain processes', () => {
  it('serve web -> catalog (gRPC) and web -> feed (WebSocket), take traffic, and exit 0 on SIGTERM', { timeout: 30_000 }, async () => {
    const catalog = await start('catalog', { INSTANCE_NAME: 'catalog-e2e' });
    const feed = await start('feed', {});
    const web = await start('web', { CATALOG_ADDR: formatHostPort(catalog.address), FEED_ADDR: formatHostPort(feed.address) });
    expect(web.line).toMatch(/^web listening on 127\.0\.0\.1:\d+ \(HTTP\/1\.1\)/);
    const base = `http://${formatHostPort(web.address)}`;

    expect(await getJson(`${base}/api/items/5`)).toMatchObject({ status: 200, body: { id: '5', servedBy: 'catalog-e2e' } });
    expect((await getJson(`${base}/api/items`)).body['items']).toHaveLength(8);
    expect(await getJson(`${base}/api/feed?n=2`)).toMatchObject({ status: 200, body: { messages: [{ type: 'tick' }, { type: 'tick' }] } });

    const traffic = await start('traffic', { WEB_ADDR: formatHostPort(web.address), RATE: '20' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { body } = await getJson(`http://${formatHostPort(traffic.address)}/stats`);
    const stats = body as unknown as TrafficStats;
    expect(stats.target).toBe(formatHostPort(web.address));
    expect(stats.sent).toBeGreaterThan(5);
    expect(stats.sent).toBeLessThanOrEqual(20 * stats.elapsedSeconds + 1);
    expect(stats.failed).toBe(0);
    expect(stats.succeeded).toBe(stats.sent - stats.inFlight);

    for (const process of started.splice(0).reverse()) {
      expect(await process.stop(), process.line).toEqual({ code: 0, signal: null });
    }
  });

  it('find their .proto from dist/ whatever the cwd; the failing instance fails every call with UNAVAILABLE', { timeout: 30_000 }, async () => {
    const failing = await start('catalog', { FAIL_RATE: '1' });
    const client = new CatalogClient(failing.address);
    try {
      await expect(client.getItem('1', 2000)).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await expect(client.listItems(2000)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      client.close();
    }
    const feed = await start('feed', {});
    const web = await start('web', { CATALOG_ADDR: formatHostPort(failing.address), FEED_ADDR: formatHostPort(feed.address) });
    expect(await getJson(`http://${formatHostPort(web.address)}/api/items/1`)).toMatchObject({ status: 502, body: { code: 'UNAVAILABLE' } });
  });

  it('the slow instance takes at least DELAY_MS, and a stop lets a request in flight finish', { timeout: 30_000 }, async () => {
    const slow = await start('catalog', { DELAY_MS: '400' });
    const feed = await start('feed', {});
    const web = await start('web', { CATALOG_ADDR: formatHostPort(slow.address), FEED_ADDR: formatHostPort(feed.address) });
    const begun = performance.now();
    const answer = getJson(`http://${formatHostPort(web.address)}/api/items/2`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const webExit = web.stop();
    expect(await answer).toMatchObject({ status: 200, body: { id: '2' } });
    expect(performance.now() - begun).toBeGreaterThanOrEqual(400);
    expect(await webExit).toEqual({ code: 0, signal: null });
  });

  it('refuse bad settings with exit code 2 and a line naming the variable; a busy port exits 1', { timeout: 30_000 }, async () => {
    const outsider = await runDemoProcessToExit('traffic', { WEB_ADDR: '192.0.2.10:80' });
    expect(outsider.code).toBe(2);
    expect(outsider.stderr).toContain('traffic: WEB_ADDR is "192.0.2.10:80"; the demo sends traffic only to this machine');
    const web = await runDemoProcessToExit('web', { PORT: '7001' });
    expect(web.code).toBe(2);
    expect(web.stderr.trim().split('\n')).toEqual([
      'web: CATALOG_ADDR is not set; write host:port, such as 127.0.0.1:7011',
      'web: FEED_ADDR is not set; write host:port, such as 127.0.0.1:7011',
    ]);

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((blocker.address() as { port: number }).port);
      const busy = await runDemoProcessToExit('feed', { PORT: port });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/^feed: cannot start: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
