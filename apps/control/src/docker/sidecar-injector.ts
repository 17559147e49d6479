// SidecarInjector: keeps one sidecar proxy beside each running container labelled weft.io/inject=enabled, through events and resyncs.
import { identityName } from '@weft/core';
import type { ControlLog } from '../control-log.js';
import type { SidecarCredentials } from './sidecar-credentials.js';
import type { EngineContainer, EngineEventStream, SidecarEngine } from './sidecar-engine.js';
import type { SidecarFailureStage, SidecarMetrics } from './sidecar-metrics.js';
import {
  INJECTION_LABELS,
  type InjectionTarget,
  initContainerSpec,
  MANAGED_BY,
  readInjectionTarget,
  SIDECAR_IDENTITY_FOLDER,
  type SidecarSettings,
  sidecarContainerSpec,
} from './sidecar-plan.js';

export interface SidecarInjectorOptions {
  readonly engine: SidecarEngine;
  readonly credentials: SidecarCredentials;
  /** The image and control address of new sidecars; asked before each one (the address may be a name to resolve). */
  readonly settings: () => Promise<SidecarSettings>;
  readonly trustDomain: string;
  readonly log: ControlLog;
  readonly metrics?: SidecarMetrics;
  /** How often every labelled container is checked again, besides the events; 30 s when absent. */
  readonly resyncIntervalMs?: number;
  /** The first retry of a failed injection waits this long, doubling up to maxRetryMs; 1 s and 30 s when absent. */
  readonly retryBaseMs?: number;
  readonly maxRetryMs?: number;
  /** How long weft-init may run; 60 s when absent. */
  readonly initTimeoutMs?: number;
  /** How often a sidecar's token is written again (tokens last 7 days); 24 h when absent. */
  readonly tokenRefreshMs?: number;
  /** How long a broken events stream waits before it is opened again; 1 s when absent. */
  readonly resubscribeMs?: number;
}

/** An injection step that failed, with where; weft-init's output when it was weft-init. */
class InjectionStepError extends Error {
  constructor(
    readonly stage: SidecarFailureStage,
    message: string,
    readonly output?: string,
  ) {
    super(message);
  }
}

export class SidecarInjector {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly queued = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** Sidecars this process has made or adopted, and when their token was last written. */
  private readonly tokenWrittenAt = new Map<string, number>();
  /** The names of apps seen, for messages about them. */
  private readonly names = new Map<string, string>();
  /** Bad labels already reported, so a resync does not repeat them. */
  private readonly reported = new Set<string>();
  private stream: EngineEventStream | undefined;
  private resync: NodeJS.Timeout | undefined;
  private resubscribe: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SidecarInjectorOptions) {}

  /** Follows the engine's events, reconciles every labelled container once, then again every resync interval. */
  async start(): Promise<void> {
    await this.subscribe();
    await this.reconcileAll();
    this.resync = setInterval(() => void this.reconcileAll(), this.options.resyncIntervalMs ?? 30_000);
  }

  /** Stops following the engine and waits for the work in flight; the sidecars keep running (and are adopted later). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.resync);
    clearTimeout(this.resubscribe);
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.stream?.close();
    await Promise.all([...this.chains.values()]);
  }

  /** Reconciles every app that is labelled for injection or has a sidecar (orphans included). */
  async reconcileAll(): Promise<void> {
    const { engine, log, metrics } = this.options;
    let apps: EngineContainer[];
    let managed: EngineContainer[];
    try {
      [apps, managed] = await Promise.all([engine.listContainers(`${INJECTION_LABELS.inject}=enabled`), engine.listContainers(`${INJECTION_LABELS.managedBy}=${MANAGED_BY}`)]);
    } catch (error) {
      metrics?.failed('engine');
      log('sidecar-resync-failed', { engine: engine.location, error: messageOf(error) });
      return;
    }
    const ids = new Set(apps.filter((app) => app.labels[INJECTION_LABELS.sidecarFor] === undefined).map((app) => app.id));
    for (const sidecar of managed) {
      const appId = sidecar.labels[INJECTION_LABELS.sidecarFor];
      if (appId !== undefined) ids.add(appId);
    }
    await Promise.all([...ids].map((id) => this.reconcile(id)));
  }

  /**
   * Brings one app's sidecar in line with the app; runs are serialized per app (never two sidecars for one), and a
   * run asked for while another waits is folded into it.
   */
  reconcile(appId: string): Promise<void> {
    if (this.queued.has(appId)) return this.chains.get(appId) ?? Promise.resolve();
    this.queued.add(appId);
    const previous = this.chains.get(appId) ?? Promise.resolve();
    const next = previous.then(async () => {
      this.queued.delete(appId);
      if (!this.closed) await this.reconcileOnce(appId);
    });
    this.chains.set(appId, next);
    void next.finally(() => {
      if (this.chains.get(appId) === next) this.chains.delete(appId);
    });
    return next;
  }

  private async subscribe(): Promise<void> {
    const { engine, log } = this.options;
    this.stream = await engine.subscribe({
      onContainerEvent: ({ id, labels }) => {
        const appId = labels[INJECTION_LABELS.sidecarFor] ?? (labels[INJECTION_LABELS.inject] === 'enabled' ? id : undefined);
        if (appId !== undefined && !this.closed) void this.reconcile(appId);
      },
      onEnd: (error) => {
        if (this.closed) return;
        log('sidecar-events-ended', { engine: engine.location, error: error === undefined ? 'closed' : error.message });
        this.resubscribe = setTimeout(() => void this.reopen(), this.options.resubscribeMs ?? 1_000);
      },
    });
  }

  // Events missed while the stream was down are caught by the full reconcile that follows.
  private async reopen(): Promise<void> {
    if (this.closed) return;
    try {
      await this.subscribe();
      await this.reconcileAll();
    } catch (error) {
      this.options.log('sidecar-events-failed', { engine: this.options.engine.location, error: messageOf(error) });
      this.resubscribe = setTimeout(() => void this.reopen(), this.options.resubscribeMs ?? 1_000);
    }
  }

  private async reconcileOnce(appId: string): Promise<void> {
    clearTimeout(this.retryTimers.get(appId));
    this.retryTimers.delete(appId);
    try {
      await this.bringInLine(appId);
      this.attempts.delete(appId);
    } catch (error) {
      this.failed(appId, error);
    }
  }

  private async bringInLine(appId: string): Promise<void> {
    const { engine } = this.options;
    const [app, owned] = await Promise.all([engine.inspect(appId), engine.listContainers(`${INJECTION_LABELS.sidecarFor}=${appId}`)]);
    if (app !== undefined) this.names.set(appId, app.name);
    const target = app?.running ? this.targetOf(app) : undefined;
    const proxies = owned.filter((container) => container.labels[INJECTION_LABELS.role] !== 'init');
    const keep = target === undefined ? undefined : proxies.find((proxy) => proxy.running && proxy.labels[INJECTION_LABELS.appStartedAt] === target.startedAt);
    // Runs are serialized per app, so a weft-init container seen now is a leftover of an interrupted run.
    for (const container of owned) {
      if (container.id !== keep?.id) await this.removeContainer(container, app?.name ?? appId, target === undefined ? 'app not running' : 'stale');
    }
    if (target === undefined) {
      this.names.delete(appId);
      return;
    }
    if (keep !== undefined) await this.adopt(keep, target);
    else await this.inject(target);
  }

  /** The target of a running app; undefined (and reported once) when a label is bad. */
  private targetOf(app: EngineContainer): InjectionTarget | undefined {
    const read = readInjectionTarget(app, this.options.trustDomain);
    if (read.ok) return read.value;
    const { label, input, container } = read.error;
    const key = `${app.id}\u0000${label}\u0000${input}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.options.log('sidecar-skipped', { container, label, value: input, reason: read.error.reason });
    }
    return undefined;
  }

  private async adopt(sidecar: EngineContainer, target: InjectionTarget): Promise<void> {
    const writtenAt = this.tokenWrittenAt.get(sidecar.id);
    const refreshMs = this.options.tokenRefreshMs ?? 24 * 3_600_000;
    if (writtenAt !== undefined && Date.now() - writtenAt < refreshMs) return;
    await this.writeCredentials(sidecar.id, target);
    if (writtenAt === undefined) {
      this.options.metrics?.changed('adopted');
      this.options.log('sidecar-adopted', { container: target.appName, sidecar: sidecar.name, identity: identityName(target.identity) });
    }
  }

  private async inject(target: InjectionTarget): Promise<void> {
    const { engine, log, metrics } = this.options;
    const settings = await this.settingsOrFail();
    const init = initContainerSpec(target, settings);
    await this.clearName(init.name, target);
    const exit = await engine.runToExit(init, this.options.initTimeoutMs ?? 60_000).catch((error: unknown) => {
      throw new InjectionStepError('init', `weft-init did not run: ${messageOf(error)}`);
    });
    if (exit.exitCode !== 0) throw new InjectionStepError('init', `weft-init exited with ${exit.exitCode}`, exit.output);
    const spec = sidecarContainerSpec(target, settings);
    await this.clearName(spec.name, target);
    const id = await engine.create(spec).catch((error: unknown) => {
      throw new InjectionStepError('create', `the sidecar was not created: ${messageOf(error)}`);
    });
    try {
      await this.writeCredentials(id, target);
      await engine.start(id);
    } catch (error) {
      this.tokenWrittenAt.delete(id);
      await engine.remove(id).catch(() => undefined);
      throw new InjectionStepError('create', `the sidecar did not start: ${messageOf(error)}`);
    }
    metrics?.changed('created');
    log('sidecar-created', { container: target.appName, sidecar: spec.name, identity: identityName(target.identity), controlAddr: settings.controlAddr });
  }

  private async settingsOrFail(): Promise<SidecarSettings> {
    try {
      return await this.options.settings();
    } catch (error) {
      throw new InjectionStepError('create', messageOf(error));
    }
  }

  private async writeCredentials(id: string, target: InjectionTarget): Promise<void> {
    const files = await this.options.credentials.filesFor(target.identity);
    await this.options.engine.putFiles(id, SIDECAR_IDENTITY_FOLDER, files);
    this.tokenWrittenAt.set(id, Date.now());
  }

  /** Frees a name for a new container: a leftover of ours goes; a container of someone else's is an error. */
  private async clearName(name: string, target: InjectionTarget): Promise<void> {
    const existing = await this.options.engine.inspect(name);
    if (existing === undefined) return;
    if (existing.labels[INJECTION_LABELS.managedBy] !== MANAGED_BY) {
      throw new InjectionStepError('create', `the name ${name} is taken by a container weft-control did not make; rename or remove it`);
    }
    await this.removeContainer(existing, target.appName, 'name taken by a leftover');
  }

  private async removeContainer(container: EngineContainer, app: string, reason: string): Promise<void> {
    try {
      await this.options.engine.remove(container.id);
    } catch (error) {
      throw new InjectionStepError('remove', `${container.name} was not removed: ${messageOf(error)}`);
    }
    this.tokenWrittenAt.delete(container.id);
    if (container.labels[INJECTION_LABELS.role] === 'init') return;
    this.options.metrics?.changed('removed');
    this.options.log('sidecar-removed', { container: app, sidecar: container.name, reason });
  }

  private failed(appId: string, error: unknown): void {
    const { log, metrics } = this.options;
    const attempt = (this.attempts.get(appId) ?? 0) + 1;
    this.attempts.set(appId, attempt);
    const stage = error instanceof InjectionStepError ? error.stage : 'engine';
    metrics?.failed(stage);
    const base = this.options.retryBaseMs ?? 1_000;
    const delayMs = Math.min(this.options.maxRetryMs ?? 30_000, base * 2 ** (attempt - 1));
    log('sidecar-failed', {
      container: this.names.get(appId) ?? appId,
      stage,
      error: messageOf(error),
      ...(error instanceof InjectionStepError && error.output !== undefined && { output: error.output }),
      attempt,
      retryInMs: delayMs,
    });
    if (this.closed) return;
    this.retryTimers.set(
      appId,
      setTimeout(() => void this.reconcile(appId), delayMs),
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
