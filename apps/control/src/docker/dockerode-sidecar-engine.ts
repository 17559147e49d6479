// DockerodeSidecarEngine: SidecarEngine over the Docker engine's API on a unix socket, through dockerode.
import { type DockerApiEvent, dockerStatusCodeOf, followDockerEvents } from '@weft/adapter-docker';
import Docker from 'dockerode';
import type { ContainerExit, ContainerFile, ContainerSpec, EngineContainer, EngineEventHandlers, EngineEventStream, SidecarEngine } from './sidecar-engine.js';
import { tarArchive } from './tar-archive.js';

/** The container events that can change whether an app needs a sidecar, or whether its sidecar still runs. */
export const SIDECAR_EVENT_ACTIONS = ['start', 'die', 'destroy'] as const;

export class DockerodeSidecarEngine implements SidecarEngine {
  readonly location: string;
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.location = socketPath;
    this.docker = new Docker({ socketPath });
  }

  async listContainers(label: string): Promise<EngineContainer[]> {
    const summaries = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) });
    const inspected = await Promise.all(summaries.map((summary) => this.inspect(summary.Id)));
    return inspected.filter((container): container is EngineContainer => container !== undefined);
  }

  async inspect(idOrName: string): Promise<EngineContainer | undefined> {
    try {
      const info = await this.docker.getContainer(idOrName).inspect();
      return {
        id: info.Id,
        name: info.Name.replace(/^\//, ''),
        labels: info.Config.Labels ?? {},
        running: info.State.Running,
        startedAt: info.State.StartedAt,
      };
    } catch (error) {
      if (dockerStatusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async runToExit(spec: ContainerSpec, timeoutMs: number): Promise<ContainerExit> {
    const id = await this.create(spec);
    const container = this.docker.getContainer(id);
    let timer: NodeJS.Timeout | undefined;
    try {
      await container.start();
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${spec.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
      });
      const { StatusCode } = (await Promise.race([container.wait(), timedOut])) as { StatusCode: number };
      const logs = await container.logs({ stdout: true, stderr: true, follow: false });
      return { exitCode: StatusCode, output: demuxLogs(logs).trim() };
    } finally {
      clearTimeout(timer);
      await this.remove(id);
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      ...(spec.entrypoint !== undefined && { Entrypoint: [...spec.entrypoint] }),
      Cmd: [...spec.cmd],
      User: spec.user,
      Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
      Labels: { ...spec.labels },
      HostConfig: {
        NetworkMode: `container:${spec.networkOf}`,
        CapAdd: [...spec.capAdd],
        // Sidecars come back after a daemon restart; the injector replaces them when their app restarted.
        RestartPolicy: { Name: spec.labels['weft.io/role'] === 'proxy' ? 'unless-stopped' : 'no' },
      },
    });
    return container.id;
  }

  async putFiles(id: string, folder: string, files: readonly ContainerFile[]): Promise<void> {
    const now = Math.floor(Date.now() / 1_000);
    const archive = tarArchive(files.map((file) => ({ ...file, mtime: now })));
    await this.docker.getContainer(id).putArchive(archive, { path: folder });
  }

  async start(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (error) {
      // Gone already, or being removed by an earlier call.
      if (dockerStatusCodeOf(error) === 404 || dockerStatusCodeOf(error) === 409) return;
      throw error;
    }
  }

  async subscribe(handlers: EngineEventHandlers): Promise<EngineEventStream> {
    const filters = { type: ['container'], event: [...SIDECAR_EVENT_ACTIONS] };
    return followDockerEvents(this.docker, filters, {
      onEvent: (raw) => {
        const event = sidecarEventOf(raw);
        if (event !== undefined) handlers.onContainerEvent(event);
      },
      onEnd: (error) => handlers.onEnd(error),
    });
  }
}

function sidecarEventOf(raw: DockerApiEvent): { id: string; action: string; labels: Readonly<Record<string, string>> } | undefined {
  const id = raw.Actor?.ID ?? raw.id;
  if (raw.Type !== 'container' || id === undefined || raw.Action === undefined) return undefined;
  return { id, action: raw.Action, labels: raw.Actor?.Attributes ?? {} };
}

/** The text of a non-TTY container's log: frames of an 8-byte header (stream, 3 zero bytes, big-endian size) and a payload. */
export function demuxLogs(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const kind = raw[offset];
    if (kind !== 0 && kind !== 1 && kind !== 2) return raw.toString('utf8');
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
