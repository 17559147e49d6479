// DockerDiscoverEndpoints: the endpoints of labelled containers, kept in step with the engine's events and resyncs.
import {
  type Authority,
  DEFAULT_TRUST_DOMAIN,
  diffEndpoints,
  type DiscoverEndpoints,
  type Endpoint,
  endpointSetOf,
  type EndpointUpdate,
  type EndpointUpdateListener,
  formatAuthority,
  KeyedPublisher,
  type Subscription,
} from '@weft/core';
import { type DockerEndpointIndex, dockerEndpointsOf, indexDockerWorkloads } from './docker-endpoint-index.js';
import type { DockerContainer, DockerEngine, DockerEventStream } from './docker-engine.js';
import { type DockerWorkload, readDockerWorkload } from './docker-workload.js';

/** Where discovery reports what it does: `error` for bad labels and a lost engine, `info` for recoveries. */
export interface DockerDiscoveryLog {
  info(message: string): void;
  error(message: string): void;
}

export const consoleDockerDiscoveryLog: DockerDiscoveryLog = {
  info: (message) => console.info(message),
  error: (message) => console.error(message),
};

export interface DockerDiscoveryOptions {
  /** The trust domain of meshed workloads' identities; DEFAULT_TRUST_DOMAIN when absent. */
  readonly trustDomain?: string;
  /** Services are published as `<service>.<namespace>.svc.<clusterDomain>:<port>`; "cluster.local" when absent. */
  readonly clusterDomain?: string;
  readonly log?: DockerDiscoveryLog;
  /** How long events are gathered before the containers they name are inspected together; default 20 ms. */
  readonly batchMs?: number;
  /** How often everything is listed again, in case an event was missed; default 30 s. */
  readonly resyncIntervalMs?: number;
  /** Delays before resubscribing after the events stream ends: doubled per failure, jittered; default 250 ms to 10 s. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** A number in [0, 1) for the jitter; Math.random when absent. */
  readonly random?: () => number;
}

/** Tells a workload's listeners whenever the set of workloads changes. */
export type DockerWorkloadsListener = (workloads: ReadonlyMap<string, DockerWorkload>) => void;

/**
 * Authorities: `<service>.<namespace>.svc.<clusterDomain>:<port>` for each labelled port (see readDockerWorkload), and
 * `<ip>:<port>` of a running service container's port, answered with that container's endpoint (with its identity)
 * so a transparent proxy can reach what an app dialled by IP over mTLS.
 *
 * start() lists and inspects every container, then follows the engine's events, gathered in short batches; when the
 * stream ends (engine restart) it resubscribes with jittered backoff and lists everything again, and it lists
 * everything again every resyncIntervalMs too. A watch only gets a message when what it watches really changed.
 */
export class DockerDiscoverEndpoints implements DiscoverEndpoints {
  private readonly trustDomain: string;
  private readonly clusterDomain: string;
  private readonly log: DockerDiscoveryLog;
  private readonly listeners: KeyedPublisher<string, EndpointUpdate>;
  private readonly targets = new Map<string, Authority>();
  private readonly containers = new Map<string, DockerContainer>();
  private readonly reported = new Map<string, string>();
  private readonly workloadListeners = new Set<DockerWorkloadsListener>();
  private workloads: ReadonlyMap<string, DockerWorkload> = new Map();
  private index: DockerEndpointIndex = { services: new Map(), addresses: new Map() };
  private readonly dirty = new Set<string>();
  private batchTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stream: DockerEventStream | undefined;
  private work: Promise<void> = Promise.resolve();
  private failures = 0;
  private started: Promise<void> | undefined;
  private synced = false;
  private closed = false;

  constructor(
    private readonly engine: DockerEngine,
    private readonly options: DockerDiscoveryOptions = {},
  ) {
    this.trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.clusterDomain = (options.clusterDomain ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
    this.log = options.log ?? consoleDockerDiscoveryLog;
    this.listeners = new KeyedPublisher('endpoint', (error) => this.log.error(`an endpoint watch listener threw: ${String(error)}`));
  }

  /**
   * Subscribes to the engine's events and lists every container. Resolves once that first sync is done; rejects
   * (a DockerEngineUnavailableError naming the socket when the engine is away) if it fails, and keeps retrying
   * in the background until close().
   */
  start(): Promise<void> {
    this.started ??= this.connect().catch((error: unknown) => {
      this.reconnectLater(error);
      throw error;
    });
    this.resyncTimer ??= setInterval(() => this.resyncIfConnected(), this.options.resyncIntervalMs ?? 30_000).unref();
    return this.started;
  }

  /** Whether a full list of the containers was applied at least once. */
  isSynced(): boolean {
    return this.synced;
  }

  watch(target: Authority, listener: EndpointUpdateListener): Subscription {
    const key = formatAuthority(target);
    this.targets.set(key, target);
    const endpoints = dockerEndpointsOf(this.index, target);
    return this.listeners.subscribe(key, endpoints ? { kind: 'reset', endpoints } : { kind: 'doesNotExist' }, listener);
  }

  /** The workloads (service containers with good labels) by container id. */
  currentWorkloads(): ReadonlyMap<string, DockerWorkload> {
    return this.workloads;
  }

  /** Calls `listener` after each change of the workloads; the subscription stops it. */
  onWorkloadsChange(listener: DockerWorkloadsListener): Subscription {
    this.workloadListeners.add(listener);
    return { close: () => this.workloadListeners.delete(listener) };
  }

  /** Stops following the engine; open watches get nothing more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.batchTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.resyncTimer);
    this.stream?.close();
    this.stream = undefined;
  }

  /** Lists and inspects every container now, and applies what changed. */
  resyncNow(): Promise<void> {
    return this.enqueue(() => this.resync());
  }

  /** Resolves once the events received so far are applied (for tests and harnesses). */
  async settled(): Promise<void> {
    while (this.batchTimer !== undefined) await new Promise((resolve) => setTimeout(resolve, this.options.batchMs ?? 20));
    await this.work;
  }

  /** Ends the events stream as an engine restart would (for tests): discovery resubscribes and resyncs. */
  dropEventsStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.close();
    this.reconnectLater(new Error('the events stream was dropped'));
  }

  private async connect(): Promise<void> {
    const stream = await this.engine.subscribe({
      onEvent: (event) => this.markDirty(event.containerId),
      onEnd: (error) => {
        if (this.stream !== stream || this.closed) return;
        this.stream = undefined;
        this.reconnectLater(error ?? new Error('the events stream ended'));
      },
    });
    if (this.closed) {
      stream.close();
      return;
    }
    this.stream = stream;
    try {
      await this.enqueue(() => this.resync());
    } catch (error) {
      if (this.stream === stream) this.stream = undefined;
      stream.close();
      throw error;
    }
    this.failures = 0;
  }

  private reconnectLater(error: unknown): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const { initialMs = 250, maxMs = 10_000 } = this.options.backoff ?? {};
    const delay = Math.min(maxMs, initialMs * 2 ** this.failures) * (0.5 + (this.options.random ?? Math.random)() / 2);
    this.failures++;
    this.log.error(`Docker discovery lost the engine at ${this.engine.location} (${messageOf(error)}); retrying in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.connect().then(
        () => this.log.info(`Docker discovery follows the engine at ${this.engine.location} again`),
        (failure: unknown) => this.reconnectLater(failure),
      );
    }, delay);
  }

  private resyncIfConnected(): void {
    if (this.stream !== undefined && !this.closed) void this.enqueue(() => this.resync()).catch((error: unknown) => this.resyncFailed(error));
  }

  private resyncFailed(error: unknown): void {
    this.log.error(`Docker discovery could not list the containers: ${messageOf(error)}`);
  }

  private markDirty(containerId: string): void {
    this.dirty.add(containerId);
    this.batchTimer ??= setTimeout(() => {
      this.batchTimer = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      void this.enqueue(() => this.refresh(ids)).catch((error: unknown) => this.resyncFailed(error));
    }, this.options.batchMs ?? 20);
  }

  /** Runs `task` after the tasks before it, so an event's inspect never overtakes a full resync. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.work.then(task);
    this.work = run.catch(() => undefined);
    return run;
  }

  private async resync(): Promise<void> {
    const ids = await this.engine.listContainerIds();
    const inspected = await Promise.all(ids.map((id) => this.engine.inspectContainer(id)));
    if (this.closed) return;
    this.containers.clear();
    for (const container of inspected) if (container) this.containers.set(container.id, container);
    this.synced = true;
    this.apply();
  }

  private async refresh(ids: readonly string[]): Promise<void> {
    const inspected = await Promise.all(ids.map(async (id) => [id, await this.engine.inspectContainer(id)] as const));
    if (this.closed) return;
    for (const [id, container] of inspected) {
      // Events name a container by its full id; a removed one is dropped whatever the id's spelling.
      const key = container?.id ?? [...this.containers.keys()].find((known) => known.startsWith(id)) ?? id;
      if (container) this.containers.set(key, container);
      else this.containers.delete(key);
    }
    this.apply();
  }

  /** Reads the workloads again and sends each watch the changes of what it watches. */
  private apply(): void {
    const workloads = new Map<string, DockerWorkload>();
    for (const [id, container] of this.containers) {
      const read = readDockerWorkload(container, this.trustDomain);
      if (read.ok) {
        this.reported.delete(id);
        if (read.value) workloads.set(id, read.value);
      } else if (this.reported.get(id) !== read.error.message) {
        this.reported.set(id, read.error.message);
        this.log.error(read.error.toString());
      }
    }
    for (const id of this.reported.keys()) if (!this.containers.has(id)) this.reported.delete(id);
    const before = this.index;
    this.index = indexDockerWorkloads(workloads.values(), this.clusterDomain);
    this.workloads = workloads;
    const watched = new Set(this.listeners.keys());
    for (const [key, target] of this.targets) {
      if (!watched.has(key)) {
        this.targets.delete(key);
        continue;
      }
      const updates = endpointChanges(dockerEndpointsOf(before, target), dockerEndpointsOf(this.index, target));
      if (updates.length > 0) this.listeners.publish(key, ...updates);
    }
    for (const listener of this.workloadListeners) listener(workloads);
  }
}

/** The updates from one state of an authority to the next; undefined means it does not exist. */
function endpointChanges(before: readonly Endpoint[] | undefined, after: readonly Endpoint[] | undefined): EndpointUpdate[] {
  if (after === undefined) return before === undefined ? [] : [{ kind: 'doesNotExist' }];
  if (before === undefined) return [{ kind: 'reset', endpoints: after }];
  return diffEndpoints(endpointSetOf(before), endpointSetOf(after));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
