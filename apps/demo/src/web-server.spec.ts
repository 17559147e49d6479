import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG_ITEMS } from './catalog-items.js';
import { type CatalogSettings, startCatalogServer } from './catalog-server.js';
import { startFeedServer } from './feed-server.js';
import { formatHostPort, type HostPort } from './host-port.js';
import { startWebServer } from './web-server.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function catalogAt(settings: Partial<CatalogSettings> = {}): Promise<HostPort> {
  const server = await startCatalogServer({ host: '127.0.0.1', port: 0, instance: 'catalog-test', delayMs: 0, failRate: 0, ...settings });
  cleanups.push(() => server.close());
  return server.address;
}

async function feedAt(intervalMs = 20): Promise<HostPort> {
  const server = await startFeedServer({ host: '127.0.0.1', port: 0, intervalMs });
  cleanups.push(() => server.close());
  return server.address;
}

/** A port nothing answers on: listened on, then closed. */
async function deadAddress(): Promise<HostPort> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return { host: '127.0.0.1', port };
}

/** A TCP port that accepts, reads and says nothing: an upstream that hangs. */
async function silentAddress(): Promise<HostPort> {
  const server: Server = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  );
  return { host: '127.0.0.1', port: (server.address() as { port: number }).port };
}

async function web(upstreams: { catalog: HostPort; feed: HostPort }, upstreamTimeoutMs = 3000): Promise<string> {
  const server = await startWebServer({ host: '127.0.0.1', port: 0, upstreamTimeoutMs, ...upstreams });
  cleanups.push(() => server.close());
  return `http://${formatHostPort(server.address)}`;
}

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: type.startsWith('application/json') ? await response.json() : await response.text() };
}

describe('the demo web front end (HTTP/1.1)', () => {
  it('lists the items it gets from the catalog over gRPC', async () => {
    const base = await web({ catalog: await catalogAt(), feed: await deadAddress() });
    const { status, body } = await get(`${base}/api/items`);
    expect(status).toBe(200);
    expect(body).toEqual({ items: CATALOG_ITEMS, servedBy: 'catalog-test' });
  });

  it('returns one item, or 404 for an id the catalog does not know, or 400 for one that is not an id', async () => {
    const base = await web({ catalog: await catalogAt(), feed: await deadAddress() });
    expect(await get(`${base}/api/items/2`)).toEqual({ status: 200, body: { ...CATALOG_ITEMS[1], servedBy: 'catalog-test' } });
    expect(await get(`${base}/api/items/42`)).toMatchObject({ status: 404, body: { error: 'no such item' } });
    expect((await get(`${base}/api/items/a%20b`)).status).toBe(400);
  });

  it('maps a failing catalog to 502 and a catalog slower than its deadline to 504, with a short JSON body', async () => {
    const failing = await web({ catalog: await catalogAt({ failRate: 1 }), feed: await deadAddress() });
    expect(await get(`${failing}/api/items/1`)).toMatchObject({ status: 502, body: { error: 'catalog failed', code: 'UNAVAILABLE' } });
    expect(await get(`${failing}/api/items`)).toMatchObject({ status: 502, body: { code: 'UNAVAILABLE' } });
    const slow = await web({ catalog: await catalogAt({ delayMs: 1000 }), feed: await deadAddress() }, 100);
    expect(await get(`${slow}/api/items/1`)).toMatchObject({ status: 504, body: { error: 'catalog timed out', code: 'DEADLINE_EXCEEDED' } });
    const gone = await web({ catalog: await deadAddress(), feed: await deadAddress() });
    expect(await get(`${gone}/api/items`)).toMatchObject({ status: 502, body: { code: 'UNAVAILABLE' } });
  });

  it('returns the first N messages of the feed, read over a WebSocket', async () => {
    const base = await web({ catalog: await deadAddress(), feed: await feedAt() });
    const { status, body } = await get(`${base}/api/feed?n=4`);
    expect(status).toBe(200);
    expect((body as { messages: { seq: number }[] }).messages.map((message) => message.seq)).toEqual([1, 2, 3, 4]);
    expect((await get(`${base}/api/feed`)).body).toMatchObject({ messages: [{ seq: 1 }, { seq: 2 }, { seq: 3 }] });
    expect((await get(`${base}/api/feed?n=0`)).status).toBe(400);
    expect((await get(`${base}/api/feed?n=51`)).status).toBe(400);
  });

  it('maps an unreachable feed to 502 and a silent one to 504', async () => {
    const unreachable = await web({ catalog: await deadAddress(), feed: await deadAddress() });
    expect(await get(`${unreachable}/api/feed`)).toMatchObject({ status: 502, body: { error: 'feed unreachable' } });
    const silent = await web({ catalog: await deadAddress(), feed: await silentAddress() }, 200);
    expect(await get(`${silent}/api/feed`)).toMatchObject({ status: 504, body: { error: 'feed timeout' } });
  });

  it('serves a home page, a health check, 404 elsewhere and only GET', async () => {
    const base = await web({ catalog: await deadAddress(), feed: await deadAddress() });
    const page = await get(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<a href="/api/items">');
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await get(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/api/items`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
  });
});
