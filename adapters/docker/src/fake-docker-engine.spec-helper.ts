// FakeDockerEngine: an in-memory DockerEngine for unit tests: containers a test sets, events it emits, outages it causes.
import {
  type DockerContainer,
  type DockerEngine,
  DockerEngineUnavailableError,
  type DockerEventHandlers,
  type DockerEventStream,
} from './docker-engine.js';

export class FakeDockerEngine implements DockerEngine {
  readonly location = '/fake/docker.sock';
  readonly containers = new Map<string, DockerContainer>();
  private readonly subscribers = new Set<DockerEventHandlers>();
  available = true;
  listCalls = 0;
  subscribeCalls = 0;
  /** When false, changes are not announced by events (as if an event was missed). */
  announce = true;

  async listContainerIds(): Promise<string[]> {
    this.check();
    this.listCalls++;
    return [...this.containers.keys()];
  }

  async inspectContainer(id: string): Promise<DockerContainer | undefined> {
    this.check();
    return this.containers.get(id);
  }

  async subscribe(handlers: DockerEventHandlers): Promise<DockerEventStream> {
    this.check();
    this.subscribeCalls++;
    this.subscribers.add(handlers);
    return {
      close: () => {
        if (this.subscribers.delete(handlers)) handlers.onEnd();
      },
    };
  }

  /** Creates or replaces a container, announcing it with `action`. */
  put(container: DockerContainer, action = 'start'): void {
    this.containers.set(container.id, container);
    this.emit(container.id, action);
  }

  remove(id: string): void {
    this.containers.delete(id);
    this.emit(id, 'destroy');
  }

  emit(containerId: string, action: string): void {
    if (!this.announce) return;
    for (const subscriber of [...this.subscribers]) subscriber.onEvent({ containerId, action });
  }

  /** Ends every open stream as an engine restart does. */
  endStreams(): void {
    for (const subscriber of [...this.subscribers]) {
      this.subscribers.delete(subscriber);
      subscriber.onEnd(new Error('engine restarted'));
    }
  }

  get openStreams(): number {
    return this.subscribers.size;
  }

  private check(): void {
    if (!this.available) throw new DockerEngineUnavailableError(this.location, 'connect ECONNREFUSED');
  }
}

let nextId = 0;

/** A running container with the given labels and IPv4 addresses, named `name`. */
export function fakeContainer(name: string, labels: Record<string, string>, ips: readonly string[], extra: Partial<DockerContainer> = {}): DockerContainer {
  nextId++;
  return {
    id: `${nextId.toString(16).padStart(12, '0')}${'f'.repeat(52)}`,
    name,
    labels,
    running: true,
    health: 'none',
    networks: ips.map((ip, index) => ({ network: `net${index}`, ...(ip.includes(':') ? { ipv6: ip } : { ipv4: ip }) })),
    ...extra,
  };
}
