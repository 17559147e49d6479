import { DiscoverEndpoints, type SocketAddress } from '@weft/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { echoSummary, endpointOf, httpCall, runConcurrently, startUpstream, type Upstream, type UpstreamHandler } from '../http/http-test-kit.spec-helper.js';
import { networkAuthorization, serverPolicy } from '../inbound/inbound-authorization.spec-helper.js';
import type { InProcessControlPlane } from './control-plane.spec-helper.js';
import {
  type Answer,
  ask,
  AUTHORS,
  BOOKS,
  type Closer,
  type MeshedProxy,
  PROXY_WORKLOAD,
  sampleSum,
  startControlPlaneFor,
  startMeshedProxy,
  streamsServed,
} from './meshed-proxy.spec-helper.js';

const closers: Closer[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const controlPlane = (): Promise<InProcessControlPlane> => startControlPlaneFor(closers);

async function app(handler: UpstreamHandler = echoSummary): Promise<Upstream> {
  const upstream = await startUpstream(handler);
  closers.push(() => upstream.close());
  return upstream;
}

/** See meshed-proxy.spec-helper.ts: a real proxy on `controlPlane`, closed after the test. */
function meshedProxy(controlPlane: InProcessControlPlane, localApp: SocketAddress): Promise<MeshedProxy> {
  return startMeshedProxy(controlPlane, localApp, closers);
}

describe('the proxy on a control plane (WEFT_PROXY_CONTROL_ADDR)', () => {
  it('sends requests to the endpoints the control plane announces, and follows its changes within 2 s', async () => {
    const cp = await controlPlane();
    const [a, b] = [await app(), await app()];
    cp.endpoints.setEndpoints(BOOKS, [endpointOf(a)]);
    const mesh = await meshedProxy(cp, a.address);
    const books = mesh.port('books');
    await streamsServed(mesh);

    for (let i = 0; i < 5; i++) expect(await ask(books)).toEqual({ status: 200, servedBy: a.port });
    cp.endpoints.setEndpoints(BOOKS, [endpointOf(a), endpointOf(b)]);
    // Bursts: one at a time, the balancer rightly keeps to a, whose measured latency beats b's assumed 30 ms.
    await vi.waitFor(
      async () => expect((await runConcurrently(20, 20, () => ask(books))).map((answer) => answer.servedBy)).toContain(b.port),
      { timeout: 2_000, interval: 5 },
    );

    cp.endpoints.setEndpoints(BOOKS, [endpointOf(b)]);
    const removedAt = Date.now();
    const answers: (Answer & { readonly atMs: number })[] = [];
    while (Date.now() - removedAt < 2_500) {
      answers.push({ atMs: Date.now() - removedAt, ...(await ask(books)) });
      await sleep(10);
    }
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    const lastOnRemoved = Math.max(-1, ...answers.filter((answer) => answer.servedBy === a.port).map((answer) => answer.atMs));
    expect(lastOnRemoved).toBeLessThan(2_000);
    const late = answers.filter((answer) => answer.atMs >= 2_000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((answer) => answer.servedBy === b.port)).toBe(true);

    const scrape = await mesh.scrape();
    const addr = cp.address;
    expect(sampleSum(scrape, 'control_stream_requests_total', { service: 'destination', rpc: 'Get', addr })).toBe(2);
    expect(sampleSum(scrape, 'control_stream_connects_total', { service: 'destination', rpc: 'GetProfile', reconnect: 'false' })).toBe(1);
    expect(sampleSum(scrape, 'control_stream_connects_total', { reconnect: 'true' })).toBe(0);
    expect(sampleSum(scrape, 'control_errors_total')).toBe(0);
    // The traffic families and the control_* ones come from one registry, in one scrape.
    expect(sampleSum(scrape, 'request_total', { direction: 'outbound' })).toBeGreaterThan(0);
  });

  it('keeps serving the last known endpoints while the control plane is away, even to a destination first used then, and converges when it is back', async () => {
    const cp = await controlPlane();
    const [a, b, c] = [await app(), await app(), await app()];
    cp.endpoints.setEndpoints(BOOKS, [endpointOf(a), endpointOf(b)]);
    cp.endpoints.setEndpoints(AUTHORS, [endpointOf(c)]);
    const mesh = await meshedProxy(cp, a.address);
    const [books, authors] = [mesh.port('books'), mesh.port('authors')];
    await streamsServed(mesh);
    // books is in use before the outage; authors is watched (its upstream listener) but sees its first request during it.
    expect((await ask(books)).status).toBe(200);
    expect(c.requests).toEqual([]);

    cp.kill();
    // The control plane cannot tell the proxy about this until it is back: a is removed from books.
    cp.endpoints.setEndpoints(BOOKS, [endpointOf(b)]);
    const started = Date.now();
    const during: (Answer & { readonly target: string })[] = [];
    for (let i = 0; i < 200; i++) {
      const target = i >= 100 && i % 10 === 0 ? 'authors' : 'books';
      during.push({ target, ...(await ask(target === 'authors' ? authors : books)) });
      await sleep(Math.max(0, started + (i + 1) * 15 - Date.now()));
    }
    // 200 requests spread over 3 s of outage (timers may fire a millisecond early).
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_950);
    expect(during.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(new Set(during.filter((answer) => answer.target === 'authors').map((answer) => answer.servedBy))).toEqual(new Set([c.port]));
    // Both last known endpoints stay eligible (the balancer picks among them); none other appears.
    const booksServers = new Set(during.filter((answer) => answer.target === 'books').map((answer) => answer.servedBy));
    expect([...booksServers].every((port) => port === a.port || port === b.port)).toBe(true);

    const away = await mesh.scrape();
    expect(sampleSum(away, 'control_errors_total', { service: 'destination', rpc: 'Get' })).toBeGreaterThanOrEqual(2);
    expect(sampleSum(away, 'control_stream_requests_total', { service: 'destination', rpc: 'Get' })).toBeGreaterThan(2);
    expect(mesh.logs.some((line) => line.event === 'control-stream-failed' && line['stale'] === true)).toBe(true);

    await cp.start();
    await vi.waitFor(
      async () => {
        const back = await mesh.scrape();
        expect(sampleSum(back, 'control_stream_connects_total', { service: 'destination', rpc: 'Get', reconnect: 'true' })).toBe(2);
        expect(sampleSum(back, 'control_stream_connects_total', { service: 'policy', rpc: 'WatchPort', reconnect: 'true' })).toBe(1);
      },
      { timeout: 5_000, interval: 50 },
    );
    // Converged: the removal made while the control plane was away has reached the proxy.
    const servedBy = new Set<number | undefined>();
    for (let i = 0; i < 20; i++) servedBy.add((await ask(books)).servedBy);
    expect(servedBy).toEqual(new Set([b.port]));
    expect(mesh.logs.some((line) => line.event === 'control-stream-restored')).toBe(true);
  }, 30_000);

  it('enforces the inbound policy the control plane serves, and keeps it while the control plane is away', async () => {
    const cp = await controlPlane();
    const local = await app();
    const locked = serverPolicy(local.port, 'locked', []);
    cp.policies.setPolicy(PROXY_WORKLOAD, local.port, locked);
    const mesh = await meshedProxy(cp, local.address);
    const inbound = mesh.proxy.inbound.address.port;
    await streamsServed(mesh);

    const denied = await httpCall(inbound, { path: '/orders' });
    expect(denied.status).toBe(403);
    expect(denied.headers['weft-proxy-error']).toMatch(/^unauthorized: /);
    expect(local.requests).toEqual([]);

    cp.policies.setPolicy(PROXY_WORKLOAD, local.port, serverPolicy(local.port, 'open', [networkAuthorization('everyone', '0.0.0.0/0')]));
    await vi.waitFor(async () => expect((await httpCall(inbound, { path: '/orders' })).status).toBe(200), { timeout: 2_000, interval: 10 });

    cp.policies.setPolicy(PROXY_WORKLOAD, local.port, locked);
    await vi.waitFor(async () => expect((await httpCall(inbound)).status).toBe(403), { timeout: 2_000, interval: 10 });
    const admitted = local.requests.length;
    cp.kill();
    // Not the proxy's default (all-unauthenticated): the last policy the control plane served.
    for (let i = 0; i < 20; i++) {
      expect((await httpCall(inbound)).status).toBe(403);
      await sleep(10);
    }
    expect(local.requests.length).toBe(admitted);
  });

  it('closes its control-plane streams and channel once it has stopped, the drain done on live discovery', async () => {
    const cp = await controlPlane();
    let streamsDuringDrain = -1;
    const slow = await app((req, res, upstream) => {
      setTimeout(() => {
        streamsDuringDrain = cp.openStreams;
        echoSummary(req, res, upstream);
      }, 300);
    });
    cp.endpoints.setEndpoints(BOOKS, [endpointOf(slow)]);
    const mesh = await meshedProxy(cp, slow.address);
    await streamsServed(mesh);
    const openBefore = cp.openStreams;
    expect(openBefore).toBeGreaterThanOrEqual(3);

    const inFlight = ask(mesh.port('books'));
    await vi.waitFor(() => expect(slow.requests.length).toBe(1), { timeout: 2_000, interval: 5 });
    const stopped = mesh.stop();
    expect(await inFlight).toEqual({ status: 200, servedBy: slow.port });
    expect(streamsDuringDrain).toBeGreaterThanOrEqual(openBefore);
    await stopped;

    await vi.waitFor(() => expect(cp.openStreams).toBe(0), { timeout: 2_000, interval: 10 });
    const discovery = mesh.composition.container.get<DiscoverEndpoints>(DiscoverEndpoints);
    expect(() => discovery.watch(BOOKS, () => undefined)).toThrow(/client is closed/);
  });
});
