// DockerEngine: the little of the Docker engine discovery needs (list, inspect, events), so it can be faked in tests.

/** How a container's healthcheck stands; `none` when the image and the run define none. */
export type DockerHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** A container's address on one network; either family may be missing. */
export interface DockerNetworkAddress {
  readonly network: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/** What discovery reads of an inspected container. */
export interface DockerContainer {
  readonly id: string;
  /** The container's name, without Docker's leading "/". */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly running: boolean;
  readonly health: DockerHealth;
  readonly networks: readonly DockerNetworkAddress[];
}

/** A change the engine reports about one container (a container event, or a network connect/disconnect of it). */
export interface DockerEngineEvent {
  readonly containerId: string;
  /** The engine's action, e.g. "start", "die", "health_status: healthy", "connect". */
  readonly action: string;
}

export interface DockerEventHandlers {
  onEvent(event: DockerEngineEvent): void;
  /** Called once when the stream ends: closed by the engine (restart), broken, or closed by us (no error then). */
  onEnd(error?: Error): void;
}

/** An open events stream. */
export interface DockerEventStream {
  close(): void;
}

export interface DockerEngine {
  /** Where the engine is, for messages, e.g. "/var/run/docker.sock". */
  readonly location: string;
  /** The ids of every container, running or not. */
  listContainerIds(): Promise<string[]>;
  /** The container as it is now; undefined when it no longer exists. */
  inspectContainer(id: string): Promise<DockerContainer | undefined>;
  /** Opens the events stream of the container and network changes discovery follows; resolves once it is open. */
  subscribe(handlers: DockerEventHandlers): Promise<DockerEventStream>;
}

/** The engine could not be reached; the message names where it was looked for. */
export class DockerEngineUnavailableError extends Error {
  override readonly name = 'DockerEngineUnavailableError';

  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`cannot reach the Docker engine at ${location}: ${detail}; is dockerd running, and is this its socket?`);
  }
}
