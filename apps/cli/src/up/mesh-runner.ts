// Runs a whole mesh on this machine: the control plane, then each instance's app and proxy, the live figures, and the stop.
import { loadMeshFile, type MeshConfig } from '@weft/adapter-file';
import { SignedTokenIssuer, TokenKeyFileError } from '@weft/adapter-token';
import { CaMaterialError } from '@weft/adapter-x509';
import { formatDuration } from '@weft/core';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CliIo } from '../cli-command.js';
import { appEnv } from './app-env.js';
import { appSpec, controlPlaneSpec, logFileOf, proxySpec } from './child-specs.js';
import { type EffectiveMeshFile, writeEffectiveMeshFile } from './effective-mesh-file.js';
import { freeLoopbackPorts, loopbackPortInUse } from './free-ports.js';
import { serviceFigures } from './inbound-stats.js';
import { describeInstanceState } from './instance-state.js';
import { LiveView } from './live-view.js';
import { waitReady } from './loopback-http.js';
import { planMesh, type UpInstance, type UpPlan } from './mesh-plan.js';
import { MetricsScraper } from './metrics-scraper.js';
import { assignPorts, fixedPorts, type PortAssignment, portsToAssign } from './port-assignment.js';
import { proxyEnv } from './proxy-env.js';
import type { RestartPolicy } from './restart-backoff.js';
import { prepareStateFolder, type StateFolder, StateFolderError } from './state-folder.js';
import { renderStatsLines, renderStatsTable, type ServiceRow } from './stats-table.js';
import { shortPath, startupSummary } from './startup-summary.js';
import { type ChildEvent, type ChildSpec, SupervisedChild } from './supervised-child.js';
import { BUILD_COMMAND, missingPrograms, type WeftPaths } from './weft-paths.js';

/** The gRPC port the control plane gets when it is free and --grpc-port is not given. */
export const PREFERRED_GRPC_PORT = 8086;

export interface MeshRunSettings {
  readonly meshFile: string;
  readonly stateDir: string;
  /** --grpc-port: fixed; else PREFERRED_GRPC_PORT when free, else any free port. */
  readonly grpcPort?: number;
  /** Redraw a table in place (a terminal) rather than print lines. */
  readonly interactive: boolean;
  /** Stop by itself after this long. */
  readonly durationMs?: number;
  readonly paths: WeftPaths;
  readonly nodePath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Asked to stop (Ctrl-C, SIGTERM). */
  readonly stopSignal: AbortSignal;
  /** How often the figures are shown: 2 s for the table, 5 s for lines by default. */
  readonly refreshMs?: number;
  /** How far back the rates look: 10 s by default. */
  readonly windowMs?: number;
  readonly readyTimeoutMs?: number;
  readonly stopGraceMs?: number;
  readonly restart?: RestartPolicy;
  /** Called with every child once started, and again with none once all are stopped (for exit handlers). */
  readonly onChildren?: (children: readonly SupervisedChild[]) => void;
}

/** A problem that ends the run before or while starting, with exit code 1 (2 for the mesh file). */
export class MeshRunError extends Error {
  override readonly name = 'MeshRunError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** How long workload tokens minted for the proxies last: a local mesh may run for days, proxies restart with the same. */
const LOCAL_TOKEN_LIFETIME_MS = 30 * 24 * 3_600_000;
/** Proxies are told to finish in-flight work within this when stopped; weft up waits a little longer. */
const PROXY_SHUTDOWN_GRACE = '3s';
/** A child that dies this often while weft up waits for it to be ready is given up on at once. */
const START_ATTEMPTS = 3;

interface InstanceChildren {
  readonly instance: UpInstance;
  readonly app: SupervisedChild;
  readonly proxy?: SupervisedChild;
  readonly proxyAdminPort?: number;
}

/** Runs the mesh until asked to stop or the duration passes; the exit code. Errors go to io.err. */
export async function runMesh(settings: MeshRunSettings, io: CliIo): Promise<number> {
  const run = new MeshRun(settings, io);
  try {
    return await run.start();
  } catch (caught) {
    const error = asRunError(caught);
    if (settings.stopSignal.aborted) {
      io.out('weft up: stopped before everything was ready');
      return 0;
    }
    for (const line of error.message.split('\n')) io.err(line);
    return error.exitCode;
  } finally {
    await run.stop();
  }
}

class MeshRun {
  private control: SupervisedChild | undefined;
  private instances: InstanceChildren[] = [];
  private effectiveFile: EffectiveMeshFile | undefined;
  private readonly view: LiveView;
  private readonly refreshMs: number;
  private stopped = false;

  constructor(
    private readonly settings: MeshRunSettings,
    private readonly io: CliIo,
  ) {
    this.view = new LiveView((line) => io.out(line), settings.interactive);
    this.refreshMs = settings.refreshMs ?? (settings.interactive ? 2_000 : 5_000);
  }

  async start(): Promise<number> {
    const { settings } = this;
    const config = await loadMesh(settings.meshFile);
    const plan = planMesh(config);
    if (plan.instances.length === 0) {
      throw new MeshRunError(`weft up: ${settings.meshFile} has no instance with a command, so there is nothing to launch; give an instance "command" and "port"`);
    }
    await this.preflight(plan);
    const ports = await this.assign(plan);
    const state = await prepareStateFolder(settings.stateDir, plan.trustDomain, Date.now());
    await mkdir(join(state.dir, 'logs'), { recursive: true });
    this.io.out(`weft up: ${shortPath(settings.meshFile, settings.cwd)} (trust domain ${plan.trustDomain}), state in ${shortPath(state.dir, settings.cwd)}`);
    for (const made of state.made) this.io.out(`  made ${shortPath(made, settings.cwd)}`);
    await this.startControlPlane(plan, ports, state);
    this.startInstances(plan, ports, state);
    await this.waitForProxies();
    this.printSummary(plan, ports, state);
    await this.showFigures(plan);
    return 0;
  }

  /** Stops the apps, then the proxies, then the control plane, each SIGTERM first and SIGKILL after a bound. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.view.release();
    const grace = this.settings.stopGraceMs ?? 5_000;
    const running = this.instances.length > 0 || this.control !== undefined;
    if (running) this.io.out('weft up: stopping ...');
    await Promise.all(this.instances.map(({ app }) => app.stop(grace)));
    await Promise.all(this.instances.map(({ proxy }) => proxy?.stop(grace)));
    await this.control?.stop(grace);
    this.effectiveFile?.close();
    this.settings.onChildren?.([]);
    if (running) this.io.out(`weft up: stopped; the logs stay in ${shortPath(join(this.settings.stateDir, 'logs'), this.settings.cwd)}`);
  }

  private printSummary(plan: UpPlan, ports: PortAssignment, state: StateFolder): void {
    const { settings } = this;
    const logs = {
      control: logFileOf(state.dir, undefined, 'control-plane'),
      apps: new Map(plan.instances.map((instance) => [instance.key, logFileOf(state.dir, instance, 'app')])),
      proxies: new Map(plan.instances.map((instance) => [instance.key, logFileOf(state.dir, instance, 'proxy')])),
    };
    const pids = {
      ...(this.control?.pid === undefined ? {} : { control: this.control.pid }),
      apps: pidsOf(this.instances.map(({ instance, app }) => [instance.key, app])),
      proxies: pidsOf(this.instances.map(({ instance, proxy }) => [instance.key, proxy])),
    };
    for (const line of startupSummary({ plan, ports, logs, pids, cwd: settings.cwd })) this.io.out(line);
    this.io.out('');
    const running = settings.durationMs === undefined ? 'Running' : `Running for ${formatDuration(settings.durationMs)}`;
    this.io.out(`${running}; Ctrl-C stops everything${settings.durationMs === undefined ? '' : ' sooner'}.`);
  }

  private async preflight(plan: UpPlan): Promise<void> {
    const missing = await missingPrograms(this.settings.paths);
    if (missing.length > 0) {
      throw new MeshRunError(`weft up: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not built; build with:\n  ${BUILD_COMMAND}`);
    }
    const problems: string[] = [];
    for (const instance of plan.instances) {
      try {
        await access(instance.launch.cwd);
      } catch {
        problems.push(`the folder ${instance.launch.cwd} of ${instance.key} (cwd) does not exist`);
      }
    }
    for (const fixed of fixedPorts(plan, this.settings.grpcPort)) {
      if (await loopbackPortInUse(fixed.port)) problems.push(`port ${fixed.port} for ${fixed.what} is in use on 127.0.0.1`);
    }
    if (problems.length > 0) {
      const advice = 'stop what uses the ports (another weft up?) or change them in the mesh file';
      throw new MeshRunError(`weft up: cannot start:\n  ${problems.join('\n  ')}\n${advice}`);
    }
    for (const instance of plan.instances) await this.warnMissingScript(instance);
  }

  /** A `node script.js` command whose script is not there is worth a word before it crashes in a loop. */
  private async warnMissingScript(instance: UpInstance): Promise<void> {
    const { command, shell, cwd } = instance.launch;
    const script = command[1];
    if (shell || command[0] !== 'node' || script === undefined || script.startsWith('-')) return;
    try {
      await access(resolve(cwd, script));
    } catch {
      this.io.err(`weft up: warning: ${instance.key} runs ${script}, which is not in ${cwd} (not built yet?)`);
    }
  }

  private async assign(plan: UpPlan): Promise<PortAssignment> {
    let grpcPort = this.settings.grpcPort;
    if (grpcPort === undefined && !(await loopbackPortInUse(PREFERRED_GRPC_PORT))) {
      const fileUsesIt = fixedPorts(plan).some((fixed) => fixed.port === PREFERRED_GRPC_PORT);
      if (!fileUsesIt) grpcPort = PREFERRED_GRPC_PORT;
    }
    const needed = portsToAssign(plan, grpcPort) + fixedPorts(plan, grpcPort).length;
    return assignPorts(plan, await freeLoopbackPorts(needed), grpcPort);
  }

  private async startControlPlane(plan: UpPlan, ports: PortAssignment, state: StateFolder): Promise<void> {
    const needsEffective = plan.instances.filter((instance) => instance.identity !== undefined && instance.proxyInboundPort === undefined);
    let meshFile = this.settings.meshFile;
    if (needsEffective.length > 0) {
      const assigned = new Map(needsEffective.map((instance) => [instance.key, ports.instances.get(instance.key)?.proxy?.inbound ?? 0]));
      this.effectiveFile = await writeEffectiveMeshFile(meshFile, join(state.dir, 'mesh.effective.yaml'), assigned);
      meshFile = this.effectiveFile.path;
    }
    const logFile = logFileOf(state.dir, undefined, 'control-plane');
    const spec = controlPlaneSpec({
      nodePath: this.settings.nodePath,
      controlMain: this.settings.paths.controlMain,
      meshFile,
      ports: ports.control,
      stateDir: state.dir,
      trustDomain: plan.trustDomain,
      env: definedEnv(this.settings.env),
      logFile,
    });
    this.control = this.supervise(spec);
    this.control.start();
    this.settings.onChildren?.(this.children());
    const control = this.control;
    const problem = await waitReady(ports.control.admin, {
      timeoutMs: this.settings.readyTimeoutMs ?? 30_000,
      giveUp: () => this.giveUpReason(control),
    });
    if (problem !== undefined) throw new MeshRunError(`weft up: the control plane is ${problem}\n${await logTail(logFile)}`);
  }

  private startInstances(plan: UpPlan, ports: PortAssignment, state: StateFolder): void {
    const issuer = new SignedTokenIssuer(state.tokenKey, { now: () => Date.now() }, { lifetimeMs: LOCAL_TOKEN_LIFETIME_MS });
    for (const instance of plan.instances) {
      const assigned = ports.instances.get(instance.key);
      if (assigned === undefined) continue;
      const env = appEnv(this.settings.env, instance, assigned);
      const app = this.supervise(appSpec(instance, env, this.settings.nodePath, logFileOf(state.dir, instance, 'app')));
      let proxy: SupervisedChild | undefined;
      if (assigned.proxy !== undefined) {
        const token = instance.identity === undefined ? undefined : issuer.issue(instance.identity);
        if (token !== undefined && !token.ok) throw new MeshRunError(`weft up: no token for ${instance.key}: ${token.error.message}`);
        const proxyEnvironment = proxyEnv(this.settings.env, {
          instance,
          ports: assigned,
          controlAddr: `127.0.0.1:${ports.control.grpc}`,
          ...(token === undefined ? {} : { token: token.value.token }),
          trustAnchorsFile: state.caFile,
          nodePath: this.settings.nodePath,
          shutdownGracePeriod: PROXY_SHUTDOWN_GRACE,
        });
        proxy = this.supervise(proxySpec(instance, proxyEnvironment, this.settings.paths.proxyLauncher, logFileOf(state.dir, instance, 'proxy')));
      }
      this.instances.push({ instance, app, ...(proxy === undefined ? {} : { proxy, proxyAdminPort: assigned.proxy?.admin ?? 0 }) });
    }
    for (const { app, proxy } of this.instances) {
      proxy?.start();
      app.start();
    }
    this.settings.onChildren?.(this.children());
  }

  private async waitForProxies(): Promise<void> {
    const timeoutMs = this.settings.readyTimeoutMs ?? 60_000;
    const problems = await Promise.all(
      this.instances.map(async ({ instance, proxy, proxyAdminPort }) => {
        if (proxy === undefined || proxyAdminPort === undefined) return undefined;
        const problem = await waitReady(proxyAdminPort, { timeoutMs, giveUp: () => this.giveUpReason(proxy) });
        return problem === undefined ? undefined : `the proxy of ${instance.key} is ${problem}\n${await logTail(proxy.spec.logFile)}`;
      }),
    );
    const failed = problems.filter((problem) => problem !== undefined);
    if (failed.length > 0) throw new MeshRunError(`weft up: ${failed.join('\n')}`);
  }

  private giveUpReason(child: SupervisedChild): string | undefined {
    if (this.settings.stopSignal.aborted) return 'not ready: weft up was asked to stop';
    // Checked on a poll: the child may have died once more since it crossed the limit, so the count is reported as is.
    const exits = child.restarts + (child.state === 'restarting' ? 1 : 0);
    if (exits >= START_ATTEMPTS) return `not ready: it exited ${exits} times`;
    return undefined;
  }

  private async showFigures(plan: UpPlan): Promise<void> {
    const targets = this.instances.flatMap(({ instance, proxyAdminPort }) =>
      proxyAdminPort === undefined ? [] : [{ key: instance.key, adminPort: proxyAdminPort }],
    );
    const windowMs = this.settings.windowMs ?? 10_000;
    const scraper = new MetricsScraper(targets, windowMs);
    const until = this.settings.durationMs === undefined ? Infinity : Date.now() + this.settings.durationMs;
    while (!this.settings.stopSignal.aborted && Date.now() < until) {
      await scraper.scrape();
      const rows = this.rows(plan, scraper, windowMs);
      const time = new Date().toISOString().slice(11, 19);
      if (this.settings.interactive) {
        const title = `${time}  inbound traffic over the last ${formatSeconds(windowMs)} (refreshed every ${formatSeconds(this.refreshMs)}; Ctrl-C stops)`;
        this.view.table(['', title, ...renderStatsTable(rows)]);
      } else {
        this.view.table(renderStatsLines(rows, time));
      }
      await sleep(Math.min(this.refreshMs, until - Date.now()), this.settings.stopSignal);
    }
  }

  private rows(plan: UpPlan, scraper: MetricsScraper, windowMs: number): ServiceRow[] {
    return plan.services.map((service) => {
      const members = this.instances.filter(({ instance }) => service.instances.includes(instance.key));
      const histories = members.map(({ instance }) => scraper.of(instance.key).history);
      const instances = members.map(({ instance, app, proxy }): [string, string] => [
        instance.name,
        describeInstanceState({
          app: { state: app.state, restarts: app.restarts },
          ...(proxy === undefined ? {} : { proxy: { state: proxy.state, restarts: proxy.restarts, ready: scraper.of(instance.key).ready } }),
        }),
      ]);
      return { service: service.key, figures: serviceFigures(histories, windowMs), instances };
    });
  }

  private supervise(spec: ChildSpec): SupervisedChild {
    const child: SupervisedChild = new SupervisedChild(spec, {
      ...(this.settings.restart === undefined ? {} : { restart: this.settings.restart }),
      onEvent: (event) => this.report(child, event),
    });
    return child;
  }

  private report(child: SupervisedChild, event: ChildEvent): void {
    if (this.stopped) return;
    const log = shortPath(child.spec.logFile, this.settings.cwd);
    const time = new Date().toISOString().slice(11, 19);
    if (event.type === 'started') {
      if (event.restarts > 0) this.view.event(`[${time}] ${child.spec.name} restarted (pid ${event.pid}, restart ${event.restarts})`);
      return;
    }
    const how = event.type === 'exited' ? (event.signal === null ? `exited with code ${event.code}` : `was killed by ${event.signal}`) : `could not start: ${event.error.message}`;
    this.view.event(`[${time}] ${child.spec.name} ${how}; restarting in ${formatSeconds(event.restartInMs)} (log: ${log})`);
  }

  private children(): SupervisedChild[] {
    const children = this.instances.flatMap(({ app, proxy }) => (proxy === undefined ? [app] : [app, proxy]));
    return this.control === undefined ? children : [this.control, ...children];
  }
}

async function loadMesh(file: string): Promise<MeshConfig> {
  const loaded = await loadMeshFile(file);
  if (loaded.ok) return loaded.value;
  const lines = loaded.error.map((error) => error.toString());
  const count = loaded.error.length === 1 ? 'an error' : `${loaded.error.length} errors`;
  throw new MeshRunError(`${lines.join('\n')}\nweft up: the mesh file has ${count}; nothing was started`, 2);
}

/** The errors a start can meet that are the user's to fix, as a MeshRunError; anything else is a bug and is thrown. */
function asRunError(error: unknown): MeshRunError {
  if (error instanceof MeshRunError) return error;
  if (error instanceof StateFolderError || error instanceof TokenKeyFileError || error instanceof CaMaterialError) {
    return new MeshRunError(`weft up: ${error.message}`);
  }
  const { code, path } = error as { code?: unknown; path?: unknown };
  if (typeof code === 'string' && typeof path === 'string') return new MeshRunError(`weft up: cannot use ${JSON.stringify(path)} (${code})`);
  throw error;
}

function pidsOf(children: readonly [string, SupervisedChild | undefined][]): Map<string, number> {
  const pids = new Map<string, number>();
  for (const [key, child] of children) if (child?.pid !== undefined) pids.set(key, child.pid);
  return pids;
}

function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) defined[name] = value;
  return defined;
}

/** The last lines of a log file, indented, for an error message. */
async function logTail(file: string, lines = 15): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines);
    return [`last lines of ${file}:`, ...text.map((line) => `  | ${line}`)].join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1_000).toFixed(1))}s`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
