// What the real-engine tests share: the engine check, a tiny local image, networks and containers named weft-test-*.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import type { DockerEngine, DockerEngineEvent, DockerEventHandlers, DockerEventStream } from './docker-engine.js';

export const DOCKER_SOCKET = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock';

/** Whether `docker info` answers; why not, naming the setup script, when it does not. */
export function probeDocker(): { readonly ok: boolean; readonly reason: string } {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return { ok: true, reason: '' };
  } catch {
    return { ok: false, reason: 'the Docker engine does not answer `docker info`; run: bash scripts/setup-docker.sh' };
  }
}

/** Under CI=true a missing engine fails; elsewhere the suite is skipped with the reason printed. */
export function dockerOrSkip(): boolean {
  const probe = probeDocker();
  if (probe.ok) return true;
  if (process.env['CI'] === 'true') throw new Error(`CI=true: ${probe.reason}`);
  console.warn(`skipping the Docker engine tests: ${probe.reason}`);
  return false;
}

export const uniqueName = (what: string): string => `weft-test-${what}-${randomBytes(4).toString('hex')}`;

/**
 * Builds an image holding only /bin/sleep and its shared libraries (nothing can be pulled), so `sleep 3600` runs in it.
 */
export function buildSleepImage(tag: string): void {
  const tree = mkdtempSync(join(tmpdir(), 'weft-test-sleep-'));
  try {
    const files = ['/bin/sleep', ...librariesOf('/bin/sleep')];
    for (const file of files) {
      mkdirSync(join(tree, dirname(file)), { recursive: true });
      copyFileSync(file, join(tree, file));
    }
    execFileSync('bash', ['-c', `tar -C "${tree}" -c . | docker import - "${tag}"`], { stdio: 'ignore', timeout: 60_000 });
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

function librariesOf(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/[^\s]+) \(0x/g)].map((match) => match[1] as string);
}

/** The containers, networks and image a suite made, removed together even after failures. */
export class DockerTestHost {
  readonly docker = new Docker({ socketPath: DOCKER_SOCKET });
  readonly image = `${uniqueName('sleep')}:1`;
  private readonly containers = new Set<string>();
  private readonly networks = new Set<string>();

  constructor() {
    buildSleepImage(this.image);
  }

  async network(name: string, options: { subnets?: readonly { subnet: string; gateway?: string; ipRange?: string }[]; ipv6?: boolean } = {}): Promise<string> {
    this.networks.add(name);
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      ...(options.ipv6 ? { EnableIPv6: true } : {}),
      ...(options.subnets
        ? {
            IPAM: {
              Driver: 'default',
              Config: options.subnets.map(({ subnet, gateway, ipRange }) => ({
                Subnet: subnet,
                ...(gateway ? { Gateway: gateway } : {}),
                ...(ipRange ? { IPRange: ipRange } : {}),
              })),
            },
          }
        : {}),
    });
    return name;
  }

  /** Creates (and unless `start` is false, starts) a `sleep 3600` container on `network`, optionally at a fixed IP. */
  async container(options: { labels: Record<string, string>; network: string; ip?: string; start?: boolean; name?: string }): Promise<string> {
    const name = options.name ?? uniqueName('app');
    const ipam = options.ip === undefined ? undefined : options.ip.includes(':') ? { IPv6Address: options.ip } : { IPv4Address: options.ip };
    const created = await this.docker.createContainer({
      name,
      Image: this.image,
      Cmd: ['/bin/sleep', '3600'],
      Labels: options.labels,
      HostConfig: { NetworkMode: options.network },
      NetworkingConfig: { EndpointsConfig: { [options.network]: ipam ? { IPAMConfig: ipam } : {} } },
    });
    this.containers.add(created.id);
    if (options.start !== false) await created.start();
    return created.id;
  }

  async kill(id: string): Promise<void> {
    await this.docker.getContainer(id).kill();
  }

  async remove(id: string): Promise<void> {
    await this.docker.getContainer(id).remove({ force: true });
    this.containers.delete(id);
  }

  async ipOf(id: string, network: string): Promise<string> {
    const info = await this.docker.getContainer(id).inspect();
    return info.NetworkSettings.Networks[network]?.IPAddress ?? '';
  }

  /** Removes everything it made; each removal is tried even when another fails. */
  async cleanup(): Promise<void> {
    const quiet = (work: Promise<unknown>): Promise<unknown> => work.catch(() => undefined);
    await Promise.all([...this.containers].map((id) => quiet(this.docker.getContainer(id).remove({ force: true }))));
    this.containers.clear();
    await Promise.all([...this.networks].map((name) => quiet(this.docker.getNetwork(name).remove())));
    this.networks.clear();
    await quiet(this.docker.getImage(this.image).remove({ force: true }));
  }
}

/**
 * A DockerEngine that forwards another one, but can hold events back (released later, as one burst) or lose them
 * (as a dropped stream does), so tests control when the adapter sees what happened.
 */
export class ControlledEngine implements DockerEngine {
  private held: DockerEngineEvent[] | undefined;
  private readonly handlers = new Set<DockerEventHandlers>();
  lose = false;

  constructor(private readonly inner: DockerEngine) {}

  get location(): string {
    return this.inner.location;
  }

  listContainerIds(): Promise<string[]> {
    return this.inner.listContainerIds();
  }

  inspectContainer(id: string): ReturnType<DockerEngine['inspectContainer']> {
    return this.inner.inspectContainer(id);
  }

  async subscribe(handlers: DockerEventHandlers): Promise<DockerEventStream> {
    this.handlers.add(handlers);
    const stream = await this.inner.subscribe({
      onEvent: (event) => {
        if (this.lose) return;
        if (this.held) this.held.push(event);
        else handlers.onEvent(event);
      },
      onEnd: (error) => {
        this.handlers.delete(handlers);
        handlers.onEnd(error);
      },
    });
    return stream;
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const events = this.held ?? [];
    this.held = undefined;
    for (const handlers of this.handlers) for (const event of events) handlers.onEvent(event);
  }
}
