// DockerDiscoverInboundPolicy: the mesh file's inbound policies applied to the Docker workloads, as their labels select them.
import type { DockerWorkload } from '@weft/adapter-docker';
import { type MeshConfig, type MeshConfigListener, meshInboundPolicyOf, meshWorkloadInboundPolicy } from '@weft/adapter-file';
import {
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  KeyedPublisher,
  type PolicyConfigError,
  type PolicyWorkloadRef,
  type Result,
  type Subscription,
} from '@weft/core';
import { dockerPolicyWorkload } from './docker-inbound-policy-workload.js';

/** The Docker workloads and their changes, as DockerDiscoverEndpoints gives them (by container id). */
export interface DockerPolicyWorkloadSource {
  currentWorkloads(): ReadonlyMap<string, DockerWorkload>;
  onWorkloadsChange(listener: (workloads: ReadonlyMap<string, DockerWorkload>) => void): Subscription;
}

/** The mesh file's configuration and its changes, as FileMeshSource gives them. */
export interface DockerPolicyMeshSource {
  current(): MeshConfig;
  onChange(listener: MeshConfigListener): Subscription;
}

/** Where problems found while serving (a bad label, Servers that conflict on a workload) are reported. */
export interface DockerPolicyLog {
  error(message: string): void;
}

interface WatchedPort {
  readonly workload: PolicyWorkloadRef;
  readonly port: number;
}

/**
 * A proxy names its workload `<namespace>/<container name>` (the app container's, for a sidecar). A Docker workload
 * of that name is selected by its container labels plus `weft.io/service` and `weft.io/instance`, and by the port
 * names of its `weft.io/port-names` label; another name is looked up in the file as FileDiscoverInboundPolicy does.
 * A watch gets the policy first, then the whole new policy each time a container or the file changes it.
 *
 * The file is checked when it is applied, but two Servers may still both select a port of a container through labels
 * the file could not know: that port then gets a policy that admits nobody (failing closed), and the conflict is
 * logged once, naming the file, the Servers and the container.
 */
export class DockerDiscoverInboundPolicy implements DiscoverInboundPolicy {
  private readonly listeners: KeyedPublisher<string, InboundServerPolicy>;
  private readonly targets = new Map<string, WatchedPort>();
  // The policy each watched port was last sent, as JSON, so only real changes are sent.
  private readonly sent = new Map<string, string>();
  // The problem last logged for each watched port or container, so each is logged once.
  private readonly reported = new Map<string, string>();
  private byName = new Map<string, DockerWorkload>();
  private readonly subscriptions: Subscription[];

  constructor(
    private readonly mesh: DockerPolicyMeshSource,
    docker: DockerPolicyWorkloadSource,
    private readonly log: DockerPolicyLog,
  ) {
    this.listeners = new KeyedPublisher('inbound policy', (error) => this.log.error(`an inbound policy watch listener threw: ${errorText(error)}`));
    this.indexWorkloads(docker.currentWorkloads());
    this.subscriptions = [
      mesh.onChange(() => this.refresh()),
      docker.onWorkloadsChange((workloads) => {
        this.indexWorkloads(workloads);
        this.refresh();
      }),
    ];
  }

  watch(workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription {
    const key = JSON.stringify([workload.namespace, workload.name, port]);
    const target = { workload: { namespace: workload.namespace, name: workload.name }, port };
    this.targets.set(key, target);
    const policy = this.policyOf(key, target);
    this.sent.set(key, JSON.stringify(policy));
    return this.listeners.subscribe(key, policy, listener);
  }

  /** How many open watches the workload's port has. */
  watcherCount(workload: PolicyWorkloadRef, port: number): number {
    return this.listeners.watcherCount(JSON.stringify([workload.namespace, workload.name, port]));
  }

  /** Stops following the file and the containers; open watches get nothing more. */
  close(): void {
    for (const subscription of this.subscriptions) subscription.close();
  }

  private indexWorkloads(workloads: ReadonlyMap<string, DockerWorkload>): void {
    const byName = new Map<string, DockerWorkload>();
    for (const workload of workloads.values()) byName.set(`${workload.namespace}/${workload.name}`, workload);
    this.byName = byName;
    for (const key of this.reported.keys()) {
      if (key.startsWith('container ') && !workloads.has(key.slice('container '.length))) this.reported.delete(key);
    }
  }

  /** Sends each watched port whose policy changed its new policy; forgets the ports nobody watches any more. */
  private refresh(): void {
    const watched = new Set(this.listeners.keys());
    for (const [key, target] of this.targets) {
      if (!watched.has(key)) {
        this.targets.delete(key);
        this.sent.delete(key);
        this.reported.delete(key);
        continue;
      }
      const policy = this.policyOf(key, target);
      const text = JSON.stringify(policy);
      if (text === this.sent.get(key)) continue;
      this.sent.set(key, text);
      this.listeners.publish(key, policy);
    }
  }

  private policyOf(key: string, { workload, port }: WatchedPort): InboundServerPolicy {
    const config = this.mesh.current();
    const container = this.byName.get(`${workload.namespace}/${workload.name}`);
    if (container === undefined) return this.orClosed(key, config, meshInboundPolicyOf(config, workload, port), port, `workload ${workload.namespace}/${workload.name}`);
    const { selection, problem } = dockerPolicyWorkload(container);
    this.reportOnce(`container ${container.containerId}`, problem?.toString());
    const compiled = meshWorkloadInboundPolicy(config, selection, port);
    return this.orClosed(key, config, compiled, port, `container "${container.name}" (${workload.namespace}/${workload.name})`);
  }

  /** The compiled policy, or one that admits nobody, logging why. */
  private orClosed(key: string, config: MeshConfig, compiled: Result<InboundServerPolicy, PolicyConfigError>, port: number, who: string): InboundServerPolicy {
    if (compiled.ok) {
      this.reported.delete(key);
      return compiled.value;
    }
    this.reportOnce(key, `mesh file ${config.file}: ${compiled.error.toString()} (found for ${who}, port ${port}); the port admits nobody until this is fixed`);
    return {
      port,
      protocol: 'unknown',
      server: { kind: 'Server', name: compiled.error.resource.name },
      authorizations: [],
      httpRoutes: [],
      audit: false,
    };
  }

  private reportOnce(key: string, message: string | undefined): void {
    if (message === undefined) {
      this.reported.delete(key);
      return;
    }
    if (this.reported.get(key) === message) return;
    this.reported.set(key, message);
    this.log.error(message);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
