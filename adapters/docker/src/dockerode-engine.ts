// DockerodeEngine: DockerEngine over the engine's API on a unix socket, through dockerode.
import Docker from 'dockerode';
import {
  type DockerContainer,
  type DockerEngine,
  DockerEngineUnavailableError,
  type DockerEventHandlers,
  type DockerEventStream,
  type DockerHealth,
  type DockerNetworkAddress,
} from './docker-engine.js';
import { type DockerApiEvent, dockerStatusCodeOf, followDockerEvents, parseDockerEventLine } from './docker-events-stream.js';

/** The container events that can change a container's endpoints. */
export const DOCKER_CONTAINER_ACTIONS = ['create', 'start', 'die', 'stop', 'destroy', 'health_status', 'rename'] as const;
/** The network events of a container joining or leaving a network. */
export const DOCKER_NETWORK_ACTIONS = ['connect', 'disconnect'] as const;

type InspectInfo = Docker.ContainerInspectInfo;

export class DockerodeEngine implements DockerEngine {
  readonly location: string;
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.location = socketPath;
    this.docker = new Docker({ socketPath });
  }

  async listContainerIds(): Promise<string[]> {
    const containers = await this.call(() => this.docker.listContainers({ all: true }));
    return containers.map((container) => container.Id);
  }

  async inspectContainer(id: string): Promise<DockerContainer | undefined> {
    try {
      return dockerContainerOf(await this.docker.getContainer(id).inspect());
    } catch (error) {
      if (dockerStatusCodeOf(error) === 404) return undefined;
      throw this.unavailable(error);
    }
  }

  async subscribe(handlers: DockerEventHandlers): Promise<DockerEventStream> {
    const filters = { type: ['container', 'network'], event: [...DOCKER_CONTAINER_ACTIONS, ...DOCKER_NETWORK_ACTIONS] };
    return this.call(() =>
      followDockerEvents(this.docker, filters, {
        onEvent: (raw) => {
          const event = containerEventOf(raw);
          if (event) handlers.onEvent(event);
        },
        onEnd: (error) => handlers.onEnd(error),
      }),
    );
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): Error {
    if (dockerStatusCodeOf(error) !== undefined) return error instanceof Error ? error : new Error(String(error));
    return new DockerEngineUnavailableError(this.location, error instanceof Error ? error.message : String(error));
  }
}

/** One line of the events stream, as the container it is about; undefined for lines that are not such an event. */
export function readEvent(line: string): { containerId: string; action: string } | undefined {
  const raw = parseDockerEventLine(line);
  return raw === undefined ? undefined : containerEventOf(raw);
}

/** An event as the container it is about (a network event names it among its attributes); undefined for others. */
function containerEventOf(raw: DockerApiEvent): { containerId: string; action: string } | undefined {
  const action = raw.Action ?? '';
  const containerId = raw.Type === 'network' ? raw.Actor?.Attributes?.['container'] : (raw.Actor?.ID ?? raw.id);
  return containerId === undefined || containerId === '' ? undefined : { containerId, action };
}

/** The part of an inspected container that discovery reads. */
export function dockerContainerOf(info: InspectInfo): DockerContainer {
  const networks: DockerNetworkAddress[] = Object.entries(info.NetworkSettings?.Networks ?? {}).map(([network, settings]) => ({
    network,
    ...(settings.IPAddress ? { ipv4: settings.IPAddress } : {}),
    ...(settings.GlobalIPv6Address ? { ipv6: settings.GlobalIPv6Address } : {}),
  }));
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    labels: { ...(info.Config?.Labels ?? {}) },
    running: info.State.Running && !info.State.Paused && !info.State.Restarting,
    health: healthOf(info.State.Health?.Status),
    networks,
  };
}

function healthOf(status: string | undefined): DockerHealth {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : 'none';
}
