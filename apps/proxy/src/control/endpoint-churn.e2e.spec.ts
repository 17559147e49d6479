import type { Endpoint } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endpointOf } from '../http/http-test-kit.spec-helper.js';
import type { InProcessControlPlane } from './control-plane.spec-helper.js';
import {
  ask,
  BOOKS,
  type Closer,
  failuresOf,
  sampleSum,
  sleepUntil,
  startControlPlaneFor,
  startMeshedProxy,
  startSteadyLoad,
  startTimedBackendFor,
  streamsServed,
  type TimedBackend,
} from './meshed-proxy.spec-helper.js';

/** The load of both cases, in requests per second. */
const RATE = 50;
/** An instance is added and one removed every this often, for CHURN_MS. */
const CHURN_EVERY_MS = 500;
const CHURN_MS = 10_000;
/** The bound: a removed instance gets no request later than this after its removal. */
const REMOVAL_BOUND_MS = 2_000;
/** A service's time per request: real services take some, and it lets the balancer spread the load. */
const SERVICE_MS = 20;

const closers: Closer[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const controlPlane = (): Promise<InProcessControlPlane> => startControlPlaneFor(closers);

const backend = (): Promise<TimedBackend> => startTimedBackendFor(SERVICE_MS, closers);

const endpointsOf = (backends: readonly TimedBackend[]): Endpoint[] => backends.map((instance) => endpointOf(instance));

describe('endpoint churn under load (issue 5, reliability)', () => {
  it('fails no request while instances are added and removed every 500 ms for 10 s under 50 requests/s', async () => {
    const cp = await controlPlane();
    const [first, second, third] = [await backend(), await backend(), await backend()];
    const live = [first, second, third];
    cp.endpoints.setEndpoints(BOOKS, endpointsOf(live));
    const mesh = await startMeshedProxy(cp, first.address, closers);
    await streamsServed(mesh);

    const load = startSteadyLoad({ port: mesh.port('books'), perSecond: RATE, maxRequests: RATE * 15, maxMs: 15_000 });
    closers.push(async () => void (await load.stop()));
    const started = Date.now();
    const added: TimedBackend[] = [];
    const removed: { readonly instance: TimedBackend; readonly removedAt: number }[] = [];
    const shutdowns: Promise<void>[] = [];
    for (let step = 1; step * CHURN_EVERY_MS <= CHURN_MS; step++) {
      await sleepUntil(started + step * CHURN_EVERY_MS);
      // A rolling update: the new instance is up before discovery announces it...
      const fresh = await backend();
      added.push(fresh);
      live.push(fresh);
      cp.endpoints.setEndpoints(BOOKS, endpointsOf(live));
      // ...and the oldest one shuts down (gracefully) only once it is out of discovery.
      const gone = live.shift();
      if (gone === undefined) throw new Error('no instance left to remove');
      cp.endpoints.setEndpoints(BOOKS, endpointsOf(live));
      removed.push({ instance: gone, removedAt: Date.now() });
      shutdowns.push(gone.shutDownGracefully());
    }
    // One more second of load on the last set, then every removed instance has finished its shutdown.
    await sleepUntil(started + CHURN_MS + 1_000);
    const answers = await load.stop();
    await Promise.all(shutdowns);

    expect(failuresOf(answers)).toEqual({ count: 0, first: [] });
    expect(answers.length).toBeGreaterThanOrEqual((RATE * (CHURN_MS + 1_000)) / 1_000 - 5);
    expect(answers.filter((answer) => answer.keepAlive).length).toBeGreaterThan(200);
    expect(answers.filter((answer) => !answer.keepAlive).length).toBeGreaterThan(200);
    // The churn was real: 20 instances came and went, and the new ones took the traffic.
    expect(added.length).toBe(CHURN_MS / CHURN_EVERY_MS);
    expect(removed.length).toBe(added.length);
    const addedWithTraffic = added.filter((instance) => instance.seenAt.length > 0).length;
    expect(addedWithTraffic).toBeGreaterThanOrEqual(added.length - 3);
    const servedByAdded = answers.filter((answer) => added.some((instance) => instance.port === answer.servedBy)).length;
    expect(servedByAdded).toBeGreaterThan(answers.length / 2);

    const scrape = await mesh.scrape();
    console.info(
      `churn: ${answers.length} requests at ${RATE}/s, all 200; ${added.length} instances added and ${removed.length} removed; ` +
        `${addedWithTraffic} added instances took traffic; failed attempts retried by the proxy: ` +
        `${sampleSum(scrape, 'response_total', { direction: 'outbound', classification: 'failure' })}`,
    );
  }, 30_000);

  it('sends no request to an instance removed from discovery later than 2 s after the removal, though the instance still runs', async () => {
    const cp = await controlPlane();
    const [kept1, kept2, leaving] = [await backend(), await backend(), await backend()];
    cp.endpoints.setEndpoints(BOOKS, endpointsOf([kept1, kept2, leaving]));
    const mesh = await startMeshedProxy(cp, kept1.address, closers);
    await streamsServed(mesh);

    const load = startSteadyLoad({ port: mesh.port('books'), perSecond: RATE, maxRequests: RATE * 12, maxMs: 12_000 });
    closers.push(async () => void (await load.stop()));
    // The instance about to leave takes its share of the load right now.
    await vi.waitFor(() => expect(leaving.seenSince(Date.now() - 200)).toBeGreaterThan(0), { timeout: 5_000, interval: 10 });

    const removedAt = Date.now();
    cp.endpoints.setEndpoints(BOOKS, endpointsOf([kept1, kept2]));
    // The observation window: the load runs on past the 2 s bound.
    await sleepUntil(removedAt + REMOVAL_BOUND_MS + 1_000);
    const answers = await load.stop();

    expect(failuresOf(answers)).toEqual({ count: 0, first: [] });
    const lastOnRemoved = Math.max(...leaving.seenAt);
    expect(lastOnRemoved - removedAt).toBeLessThan(REMOVAL_BOUND_MS);
    const late = answers.filter((answer) => answer.sentAtMs >= removedAt + REMOVAL_BOUND_MS);
    expect(late.length).toBeGreaterThanOrEqual(RATE / 2);
    expect(new Set(late.map((answer) => answer.servedBy))).toEqual(new Set([kept1.port, kept2.port]));
    // It was not down: it still answers whoever asks it directly.
    expect(await ask(leaving.port)).toEqual({ status: 200, servedBy: leaving.port });

    console.info(`removal: last request on the removed instance ${lastOnRemoved - removedAt} ms after its removal; ${answers.length} requests, all 200`);
  });
});
