import { DEFAULT_LAST_KNOWN_TTL_MS } from '@weft/adapter-grpc';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endpointOf } from '../http/http-test-kit.spec-helper.js';
import type { InProcessControlPlane } from './control-plane.spec-helper.js';
import {
  ask,
  AUTHORS,
  BOOKS,
  type Closer,
  failuresOf,
  type LoadAnswer,
  sampleSum,
  sleepUntil,
  startControlPlaneFor,
  startMeshedProxy,
  startSteadyLoad,
  startTimedBackendFor,
  streamsServed,
  type TimedBackend,
} from './meshed-proxy.spec-helper.js';

/** The phases of the reliability test: load alone, then the control plane away for 60 s. */
const KILL_AFTER_MS = 5_000;
const OUTAGE_MS = 60_000;
/** How long the idle destination waits, counted from the kill, before its first request (it has been watched since start-up). */
const IDLE_DESTINATION_FIRST_USE_MS = 30_000;
/** The bound for a removed endpoint: no request later than this after the proxy hears of the removal. */
const REMOVAL_BOUND_MS = 2_000;
/** After the reconnect the load runs on this long, past the 2 s bound, to show where traffic goes then. */
const AFTER_RECONNECT_MS = 3_000;
/** A service's time per request: real services take some, and it lets the balancer spread the load. */
const SERVICE_MS = 20;

const closers: Closer[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const controlPlane = (): Promise<InProcessControlPlane> => startControlPlaneFor(closers);

const backend = (): Promise<TimedBackend> => startTimedBackendFor(SERVICE_MS, closers);

const servedBy = (answers: readonly LoadAnswer[]): Set<number | undefined> => new Set(answers.map((answer) => answer.servedBy));

describe('the proxy while its control plane is away for 60 s (issue 5, reliability)', () => {
  it(
    'answers every request, to a destination in use and to one first used during the outage, and converges within 2 s of the reconnect',
    async () => {
      const cp = await controlPlane();
      const [a1, a2, a3, c] = [await backend(), await backend(), await backend(), await backend()];
      cp.endpoints.setEndpoints(BOOKS, [endpointOf(a1), endpointOf(a2)]);
      cp.endpoints.setEndpoints(AUTHORS, [endpointOf(c)]);
      const mesh = await startMeshedProxy(cp, a2.address, closers);
      // The default time to live (WEFT_PROXY_CONTROL_STATE_TTL unset) outlasts the outage, with room to spare.
      expect(mesh.config.control?.stateTtlMs).toBe(DEFAULT_LAST_KNOWN_TTL_MS);
      expect(DEFAULT_LAST_KNOWN_TTL_MS).toBeGreaterThan(2 * OUTAGE_MS);
      const [books, authors] = [mesh.port('books'), mesh.port('authors')];
      await streamsServed(mesh);
      const watchedAt = Date.now();

      // Destination A (books): 20 requests/s from now to the end, half on a keep-alive connection, half on new ones.
      const loadA = startSteadyLoad({ port: books, perSecond: 20, maxRequests: 20 * 100, maxMs: 100_000 });
      closers.push(async () => void (await loadA.stop()));
      await sleepUntil(watchedAt + KILL_AFTER_MS);

      cp.kill();
      const killedAt = Date.now();
      // While it is away the control plane's truth changes: a1 is replaced by a3. The proxy cannot hear of it yet.
      cp.endpoints.setEndpoints(BOOKS, [endpointOf(a2), endpointOf(a3)]);

      await sleepUntil(killedAt + IDLE_DESTINATION_FIRST_USE_MS);
      // Destination B (authors): watched since start-up, idle until now, first used with the control plane away.
      expect(c.seenAt).toEqual([]);
      const firstUseOfB = Date.now();
      const loadB = startSteadyLoad({ port: authors, perSecond: 5, maxRequests: 5 * 60, maxMs: 60_000 });
      closers.push(async () => void (await loadB.stop()));

      await sleepUntil(killedAt + OUTAGE_MS);
      const away = await mesh.scrape();
      expect(sampleSum(away, 'control_errors_total', { service: 'destination', rpc: 'Get' })).toBeGreaterThanOrEqual(2);
      expect(sampleSum(away, 'control_stream_connects_total', { reconnect: 'true' })).toBe(0);
      expect(sampleSum(away, 'control_state_expired_total')).toBe(0);

      await cp.start();
      const restartedAt = Date.now();
      await vi.waitFor(
        async () => {
          const back = await mesh.scrape();
          expect(sampleSum(back, 'control_stream_connects_total', { service: 'destination', rpc: 'Get', reconnect: 'true' })).toBe(2);
          expect(sampleSum(back, 'control_stream_connects_total', { service: 'policy', rpc: 'WatchPort', reconnect: 'true' })).toBe(1);
          // books' profile stream was served before the outage; authors' was first opened during it.
          expect(sampleSum(back, 'control_stream_connects_total', { service: 'destination', rpc: 'GetProfile', reconnect: 'true' })).toBe(1);
          expect(sampleSum(back, 'control_stream_connects_total', { service: 'destination', rpc: 'GetProfile', reconnect: 'false' })).toBe(2);
        },
        { timeout: 5_000, interval: 50 },
      );
      const restored = mesh.logs.find(
        (line) => line.event === 'control-stream-restored' && line['rpc'] === 'Get' && line['target'] === 'books.shop.svc.cluster.local:7000',
      );
      expect(restored).toBeDefined();
      const reconnectedAt = restored?.loggedAtMs ?? Number.NaN;
      // Requests at once: with some in flight on a2, the balancer tries a3, whose latency it has not measured yet; one
      // request at a time (20/s at 20 ms) would stay on a2, which it has measured as faster than its 30 ms default.
      const burst = await Promise.all(Array.from({ length: 16 }, () => ask(mesh.port('books'))));
      // The observation window: the load runs on past the 2 s bound.
      await sleepUntil(reconnectedAt + AFTER_RECONNECT_MS);
      const [answersA, answersB] = await Promise.all([loadA.stop(), loadB.stop()]);

      // Zero failed requests over the whole run, each one counted.
      expect(failuresOf([...answersA, ...answersB])).toEqual({ count: 0, first: [] });
      const outageMs = restartedAt - killedAt;
      expect(outageMs).toBeGreaterThanOrEqual(OUTAGE_MS);
      expect(answersA.length).toBeGreaterThanOrEqual(20 * (KILL_AFTER_MS + OUTAGE_MS) / 1_000);
      const duringOutage = answersA.filter((answer) => answer.sentAtMs >= killedAt && answer.sentAtMs < restartedAt);
      expect(duringOutage.length).toBeGreaterThanOrEqual((20 * OUTAGE_MS) / 1_000 - 20);
      expect(duringOutage.filter((answer) => answer.keepAlive).length).toBeGreaterThan(500);
      expect(duringOutage.filter((answer) => !answer.keepAlive).length).toBeGreaterThan(500);
      // The last known endpoints (a1, a2) served A while the control plane was away; a3 only came with its return.
      expect([...servedBy(duringOutage)].every((port) => port === a1.port || port === a2.port)).toBe(true);
      expect(a3.seenAt.filter((at) => at < restartedAt)).toEqual([]);
      expect(a1.seenSince(killedAt)).toBeGreaterThan(0);

      // B: first used 30 s into the outage, 35 s after start-up; its first requests (and all later ones) succeed.
      expect(firstUseOfB - killedAt).toBeGreaterThanOrEqual(IDLE_DESTINATION_FIRST_USE_MS);
      expect(firstUseOfB).toBeLessThan(restartedAt);
      const firstOfB = answersB.slice(0, 5);
      expect(firstOfB.map((answer) => [answer.status, answer.servedBy])).toEqual(firstOfB.map(() => [200, c.port]));
      expect(answersB.filter((answer) => answer.sentAtMs < restartedAt).length).toBeGreaterThanOrEqual(5 * 25);
      expect(servedBy(answersB)).toEqual(new Set([c.port]));

      // Converged: a1 gets nothing later than 2 s after the reconnect, a3 gets traffic, the load is on a2 and a3.
      const lastOnA1 = Math.max(...a1.seenAt);
      expect(lastOnA1 - reconnectedAt).toBeLessThan(REMOVAL_BOUND_MS);
      expect(burst.map((answer) => answer.status)).toEqual(burst.map(() => 200));
      expect(a3.seenSince(reconnectedAt)).toBeGreaterThan(0);
      const late = answersA.filter((answer) => answer.sentAtMs >= reconnectedAt + REMOVAL_BOUND_MS);
      expect(late.length).toBeGreaterThan(0);
      expect([...servedBy(late)].every((port) => port === a2.port || port === a3.port)).toBe(true);
      expect(mesh.logs.filter((line) => line.event === 'control-state-expired')).toEqual([]);

      console.info(
        `control plane away ${outageMs} ms; A: ${answersA.length} requests (${duringOutage.length} during the outage), B: ${answersB.length} ` +
          `(first at +${firstUseOfB - killedAt} ms into the outage), all 200; reconnect ${reconnectedAt - restartedAt} ms after the restart; ` +
          `last request on the replaced endpoint ${lastOnA1 - reconnectedAt} ms after the reconnect; ` +
          `${a3.seenSince(reconnectedAt)} requests on the new endpoint`,
      );
    },
    120_000,
  );
});
