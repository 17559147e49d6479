// Test kit for the proxy on a control plane: a proxy composed as main.ts composes it, timed backends, a steady request load, metric samples.
import type { ControlBackoff } from '@weft/adapter-grpc';
import type { SocketAddress } from '@weft/core';
import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, vi } from 'vitest';
import { authority, httpCall, startUpstream, type Upstream } from '../http/http-test-kit.spec-helper.js';
import { type ProxyConfig, readProxyConfig } from '../proxy-config.js';
import { type RunningProxy, startProxy } from '../proxy-runtime.js';
import type { TransportEvent } from '../transport/transport-log.js';
import { composeProxyContainer, type ProxyComposition } from './compose-proxy-container.js';
import { InProcessControlPlane } from './control-plane.spec-helper.js';

/** What a spec closes after each test, last opened first closed. */
export type Closer = () => Promise<void> | void;

/** An in-process control plane that `closers` stops after the test. */
export async function startControlPlaneFor(closers: Closer[]): Promise<InProcessControlPlane> {
  const started = await InProcessControlPlane.start();
  closers.push(() => started.stop());
  return started;
}

/** A backend taking `serviceMs` per request (startTimedBackend) that `closers` closes after the test. */
export async function startTimedBackendFor(serviceMs: number, closers: Closer[]): Promise<TimedBackend> {
  const started = await startTimedBackend(serviceMs);
  closers.push(() => started.close());
  return started;
}

export const BOOKS = authority('books.shop.svc.cluster.local:7000');
export const AUTHORS = authority('authors.shop.svc.cluster.local:7000');
/** The workload the proxy names to the Policy and Destination services. */
export const PROXY_WORKLOAD = { namespace: 'shop', name: 'web-1' };
/** Reconnects within half a second of the control plane's return, so the tests need not wait out the 10 s default. */
export const QUICK_BACKOFF: Partial<ControlBackoff> = { initialMs: 50, maxMs: 400 };

const anyPort: SocketAddress = { ip: '127.0.0.1', port: 0 };

/** Resolves at `atMs` (Date.now() time), at once if that has passed: the deliberate phases of a long test. */
export async function sleepUntil(atMs: number): Promise<void> {
  await sleep(Math.max(0, atMs - Date.now()));
}

/** A log line of the proxy with the wall-clock time (Date.now()) it was written. */
export type TimedTransportEvent = TransportEvent & { readonly loggedAtMs: number };

export interface MeshedProxy {
  readonly config: ProxyConfig;
  readonly proxy: RunningProxy;
  readonly composition: ProxyComposition;
  readonly logs: TimedTransportEvent[];
  /** The port of the upstream listener `name` (books, authors). */
  port(name: 'books' | 'authors'): number;
  scrape(): Promise<string>;
  /** As main.ts stops: the proxy drains and stops, then the control-plane clients and channel close. */
  stop(): Promise<void>;
}

/**
 * A real proxy, composed as main.ts composes it, pointed at `controlPlane` by WEFT_PROXY_CONTROL_ADDR, with two
 * upstream listeners (books, authors), its local app at `localApp`, and every listener on a free loopback port. The
 * state time to live is the default (WEFT_PROXY_CONTROL_STATE_TTL unset); reconnects use QUICK_BACKOFF. Its stop is
 * pushed onto `closers`.
 */
export async function startMeshedProxy(controlPlane: InProcessControlPlane, localApp: SocketAddress, closers: Closer[]): Promise<MeshedProxy> {
  const base = readProxyConfig({
    WEFT_PROXY_CONTROL_ADDR: controlPlane.address,
    WEFT_PROXY_UPSTREAMS: 'books=books.shop.svc.cluster.local:7000@4301,authors=authors.shop.svc.cluster.local:7000@4302',
    WEFT_PROXY_POLICY_WORKLOAD: `${PROXY_WORKLOAD.namespace}/${PROXY_WORKLOAD.name}`,
    WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '2s',
  });
  const config: ProxyConfig = {
    ...base,
    outboundAddr: anyPort,
    inboundAddr: anyPort,
    tapAddr: anyPort,
    adminAddr: anyPort,
    inboundAppAddr: localApp,
    upstreams: base.upstreams.map((upstream) => ({ ...upstream, listenAddr: anyPort })),
  };
  const logs: TimedTransportEvent[] = [];
  const log = (event: TransportEvent): void => void logs.push({ ...event, loggedAtMs: Date.now() });
  const composition = composeProxyContainer(config, { version: 'test', log, controlChannel: { backoff: QUICK_BACKOFF } });
  expect(composition.staticDiscovery).toBeUndefined();
  const proxy = await startProxy({ config, container: composition.container, log });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await proxy.stop();
      composition.close();
    })());
  closers.push(stop);
  return {
    config,
    proxy,
    composition,
    logs,
    port: (name) => {
      const listener = proxy.upstreams.get(name);
      if (listener === undefined) throw new Error(`no upstream listener ${name}`);
      return listener.address.port;
    },
    scrape: async () => (await httpCall(proxy.admin.address.port, { path: '/metrics' })).body.toString('utf8'),
    stop,
  };
}

export interface Answer {
  readonly status: number;
  /** The port of the app that answered; undefined when the proxy answered itself. */
  readonly servedBy: number | undefined;
}

/** One request through the upstream listener on `port` (a new connection each time). */
export async function ask(port: number, path = '/'): Promise<Answer> {
  const result = await httpCall(port, { path });
  const servedBy = result.status === 200 ? (JSON.parse(result.body.toString('utf8')) as { port: number }).port : undefined;
  return { status: result.status, servedBy };
}

/** The sum of the samples of `name` in a scrape whose labels include `labels`. */
export function sampleSum(scrape: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of scrape.split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample?.[1] !== name) continue;
    const have = new Map([...(sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([label, value]) => have.get(label) === value)) sum += Number(sample[3]);
  }
  return sum;
}

/** Waits until the proxy's Get streams (books, authors) and its policy stream have each delivered a first message. */
export async function streamsServed(mesh: MeshedProxy): Promise<void> {
  await vi.waitFor(
    async () => {
      const scrape = await mesh.scrape();
      expect(sampleSum(scrape, 'control_stream_connects_total', { service: 'destination', rpc: 'Get', reconnect: 'false' })).toBe(2);
      expect(sampleSum(scrape, 'control_stream_connects_total', { service: 'policy', rpc: 'WatchPort', reconnect: 'false' })).toBe(1);
    },
    { timeout: 5_000, interval: 20 },
  );
}

/** A backend: an Upstream that notes when each request arrived and can shut down as a well-behaved app does. */
export interface TimedBackend extends Upstream {
  /** Date.now() at the arrival of each request, in order. */
  readonly seenAt: number[];
  /** Requests that arrived at or after `fromMs` (Date.now() time). */
  seenSince(fromMs: number): number;
  /**
   * A graceful shutdown: stops accepting connections, closes the idle ones, lets the requests in progress (and any
   * that still arrive on open connections) finish, then closes the rest and resolves.
   */
  shutDownGracefully(): Promise<void>;
}

/** A backend on 127.0.0.1 that answers each request with a JSON summary (its port) after `serviceMs`, as a real service takes time. */
export async function startTimedBackend(serviceMs: number): Promise<TimedBackend> {
  const seenAt: number[] = [];
  let inProgress = 0;
  let closing: (() => void) | undefined;
  const settle = (): void => {
    if (inProgress === 0) closing?.();
  };
  const upstream = await startUpstream((req, res, self) => {
    seenAt.push(Date.now());
    inProgress += 1;
    res.on('close', () => {
      inProgress -= 1;
      settle();
    });
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        const body = JSON.stringify({ port: self.port });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, serviceMs);
    });
  });
  let shutdown: Promise<void> | undefined;
  return {
    ...upstream,
    seenAt,
    seenSince: (fromMs) => seenAt.filter((at) => at >= fromMs).length,
    shutDownGracefully: () =>
      (shutdown ??= new Promise<void>((resolve) => {
        closing = () => {
          closing = undefined;
          upstream.server.closeAllConnections();
          resolve();
        };
        // Node's close() stops listening and closes the connections that are idle now.
        upstream.server.close();
        settle();
      })),
  };
}

/** One request of a steady load. */
export interface LoadAnswer {
  readonly index: number;
  /** Sent on the load's keep-alive agent, else on a connection of its own. */
  readonly keepAlive: boolean;
  /** Date.now() when the request was sent and when its answer (or error) was complete. */
  readonly sentAtMs: number;
  readonly endedAtMs: number;
  /** 0 when no response came (an error or the time limit). */
  readonly status: number;
  /** The port of the backend that answered; undefined when the proxy answered itself or nobody did. */
  readonly servedBy: number | undefined;
  readonly error: string | undefined;
}

export interface SteadyLoadOptions {
  /** The proxy listener to send to. */
  readonly port: number;
  readonly perSecond: number;
  /** The load stops by itself after this many requests or this long, whichever comes first. */
  readonly maxRequests: number;
  readonly maxMs: number;
}

export interface SteadyLoad {
  /** The answers so far, in the order they completed. */
  readonly answers: readonly LoadAnswer[];
  /** Sends no more requests, waits for those in flight, and gives every answer. */
  stop(): Promise<readonly LoadAnswer[]>;
}

/** The failed requests of a load (any status but 200): how many, and the first few in full, for a readable report. */
export function failuresOf(answers: readonly LoadAnswer[]): { readonly count: number; readonly first: readonly LoadAnswer[] } {
  const failed = answers.filter((answer) => answer.status !== 200);
  return { count: failed.length, first: failed.slice(0, 10) };
}

/** A request that got no answer within this long is counted as failed. */
const LOAD_REQUEST_LIMIT_MS = 10_000;

/**
 * An open-loop load: request i is sent at start + i / perSecond whatever became of the earlier ones (so a slow proxy
 * sees requests pile up, as it would from real clients). Even requests go over one keep-alive agent, odd ones each on
 * a new connection.
 */
export function startSteadyLoad(options: SteadyLoadOptions): SteadyLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const answers: LoadAnswer[] = [];
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1_000 / options.perSecond;
  const startedAt = Date.now();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const sendDue = (): void => {
    timer = undefined;
    while (next < options.maxRequests && Date.now() >= startedAt + next * intervalMs) {
      if (Date.now() - startedAt >= options.maxMs) return;
      const index = next;
      next += 1;
      const keepAlive = index % 2 === 0;
      const sent = loadRequest(options.port, keepAlive ? agent : false).then((answer) => void answers.push({ index, keepAlive, ...answer }));
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
    }
    if (next < options.maxRequests) timer = setTimeout(sendDue, Math.max(0, startedAt + next * intervalMs - Date.now()));
  };
  sendDue();
  return {
    answers,
    stop: async () => {
      if (timer !== undefined) clearTimeout(timer);
      next = options.maxRequests;
      await Promise.all([...inFlight]);
      agent.destroy();
      return [...answers].sort((a, b) => a.index - b.index);
    },
  };
}

type LoadResult = Omit<LoadAnswer, 'index' | 'keepAlive'>;

/** GET / on `port`; never rejects: an error or the time limit gives status 0 and the error. */
function loadRequest(port: number, agent: Agent | false): Promise<LoadResult> {
  const sentAtMs = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, body: string, error: string | undefined): void => {
      if (settled) return;
      settled = true;
      if (status !== 200) {
        resolve({ sentAtMs, endedAtMs: Date.now(), status, servedBy: undefined, error });
        return;
      }
      try {
        const servedBy = (JSON.parse(body) as { port?: number }).port;
        resolve({ sentAtMs, endedAtMs: Date.now(), status, servedBy, error: undefined });
      } catch {
        resolve({ sentAtMs, endedAtMs: Date.now(), status: 0, servedBy: undefined, error: `unreadable body: ${body.slice(0, 200)}` });
      }
    };
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent, timeout: LOAD_REQUEST_LIMIT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        // The proxy's own answers (502, 503...) name the reason: keep it for the report of a failed run.
        done(res.statusCode ?? 0, body, res.statusCode === 200 ? undefined : `${res.statusCode ?? 0} ${body.slice(0, 200)}`);
      });
      res.on('error', (error) => done(0, '', error.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${LOAD_REQUEST_LIMIT_MS} ms`)));
    req.on('error', (error: Error & { code?: string }) => done(0, '', `${error.code ?? error.name}: ${error.message}`));
    req.end();
  });
}
