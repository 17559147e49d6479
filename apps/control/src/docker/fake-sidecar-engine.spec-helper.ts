// FakeSidecarEngine: an in-memory SidecarEngine for the injector's tests; containers, weft-init runs and events, no Docker.
import type { ContainerExit, ContainerFile, ContainerSpec, EngineContainer, EngineEventHandlers, EngineEventStream, SidecarEngine } from './sidecar-engine.js';

export interface FakeContainer extends EngineContainer {
  readonly spec?: ContainerSpec;
  readonly files: Map<string, ContainerFile>;
}

export class FakeSidecarEngine implements SidecarEngine {
  readonly location = 'fake://engine';
  readonly containers = new Map<string, FakeContainer>();
  /** Every weft-init run, in order. */
  readonly initRuns: ContainerSpec[] = [];
  /** Exit codes for the next weft-init runs; 0 once empty. */
  readonly initExits: ContainerExit[] = [];
  /** Makes the next create calls fail. */
  failCreates = 0;
  private handlers: EngineEventHandlers | undefined;
  private nextId = 1;

  /** Adds an app container (running) and tells the subscriber. */
  addApp(name: string, labels: Record<string, string>, running = true): FakeContainer {
    const id = `app${this.nextId++}`;
    const app: FakeContainer = { id, name, labels, running, startedAt: running ? `t${this.nextId}` : '', files: new Map() };
    this.containers.set(id, app);
    this.emit(id, running ? 'start' : 'create');
    return app;
  }

  /** Stops (die) or restarts (die + start, with a new StartedAt) a container. */
  setRunning(id: string, running: boolean): void {
    const container = this.mustGet(id);
    this.containers.set(id, { ...container, running, startedAt: running ? `t${this.nextId++}` : container.startedAt });
    this.emit(id, running ? 'start' : 'die');
  }

  destroy(id: string): void {
    const container = this.mustGet(id);
    this.containers.delete(id);
    this.emit(id, 'destroy', container.labels);
  }

  /** The sidecars (role proxy) of an app. */
  sidecarsOf(appId: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.labels['weft.io/sidecar-for'] === appId && c.labels['weft.io/role'] === 'proxy');
  }

  endStream(error: Error): void {
    const handlers = this.handlers;
    this.handlers = undefined;
    handlers?.onEnd(error);
  }

  get subscribed(): boolean {
    return this.handlers !== undefined;
  }

  async listContainers(label: string): Promise<EngineContainer[]> {
    const [key, value] = label.split('=') as [string, string | undefined];
    return [...this.containers.values()].filter((c) => c.labels[key] !== undefined && (value === undefined || c.labels[key] === value));
  }

  async inspect(idOrName: string): Promise<EngineContainer | undefined> {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }

  async runToExit(spec: ContainerSpec): Promise<ContainerExit> {
    this.checkName(spec.name);
    this.initRuns.push(spec);
    return this.initExits.shift() ?? { exitCode: 0, output: '' };
  }

  async create(spec: ContainerSpec): Promise<string> {
    if (this.failCreates > 0) {
      this.failCreates--;
      throw new Error('engine said no');
    }
    this.checkName(spec.name);
    const id = `sidecar${this.nextId++}`;
    this.containers.set(id, { id, name: spec.name, labels: spec.labels, running: false, startedAt: '', spec, files: new Map() });
    return id;
  }

  async putFiles(id: string, folder: string, files: readonly ContainerFile[]): Promise<void> {
    const container = this.mustGet(id);
    for (const file of files) container.files.set(`${folder}/${file.name}`, file);
  }

  async start(id: string): Promise<void> {
    const container = this.mustGet(id);
    this.containers.set(id, { ...container, running: true, startedAt: `t${this.nextId++}` });
    this.emit(id, 'start');
  }

  async remove(id: string): Promise<void> {
    const container = this.containers.get(id);
    if (container === undefined) return;
    this.containers.delete(id);
    this.emit(id, 'destroy', container.labels);
  }

  async subscribe(handlers: EngineEventHandlers): Promise<EngineEventStream> {
    this.handlers = handlers;
    return {
      close: () => {
        if (this.handlers === handlers) this.handlers = undefined;
      },
    };
  }

  private emit(id: string, action: string, labels?: Readonly<Record<string, string>>): void {
    this.handlers?.onContainerEvent({ id, action, labels: labels ?? this.containers.get(id)?.labels ?? {} });
  }

  private checkName(name: string): void {
    if ([...this.containers.values()].some((c) => c.name === name)) throw new Error(`Conflict. The container name "/${name}" is already in use`);
  }

  private mustGet(id: string): FakeContainer {
    const container = this.containers.get(id);
    if (container === undefined) throw new Error(`no such container: ${id}`);
    return container;
  }
}
