// The docker orchestrator: endpoints from the labelled containers of a Docker engine, profiles and policies from an optional mesh file.
import { DockerDiscoverEndpoints, type DockerDiscoveryLog, dockerModule, DockerodeEngine } from '@weft/adapter-docker';
import { FileDiscoverProfile, FileMeshSource, loadMeshFile, type MeshConfig, type MeshSourceLog } from '@weft/adapter-file';
import { memoryModule } from '@weft/adapter-memory';
import { DEFAULT_TRUST_DOMAIN, DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { ContainerModule } from 'inversify';
import { resolveTrustDomain } from './control-args.js';
import type { ControlLog } from './control-log.js';
import { DockerDiscoverInboundPolicy } from './docker-inbound-policy.js';
import { MeshFileStartError } from './mesh-file-orchestrator.js';
import { type OrchestratorContext, OrchestratorUnavailableError, type PreparedOrchestrator } from './orchestrator-modules.js';
import { OrchestratorReadiness } from './orchestrator-readiness.js';

/** Options for tests: how the adapter batches events and resyncs; the adapter's defaults when absent. */
export interface DockerOrchestratorTimings {
  readonly batchMs?: number;
  readonly resyncIntervalMs?: number;
}

/**
 * Lists the engine's containers before anything is served (a start against an engine that does not answer fails,
 * naming the socket), then follows its events. With --mesh-file, the file's trust and cluster domain, profiles and
 * inbound policies are used (its services list may be empty): its Servers select the Docker workloads by their
 * labels, service and port names (see DockerDiscoverInboundPolicy); without it there are no profiles and the default
 * policy admits all.
 * @throws OrchestratorUnavailableError when the engine does not answer; MeshFileStartError for a bad mesh file.
 */
export async function prepareDockerOrchestrator(context: OrchestratorContext, timings: DockerOrchestratorTimings = {}): Promise<PreparedOrchestrator> {
  const { args, log } = context;
  const meshFile = args.meshFile;
  const config = meshFile === undefined ? undefined : await readPoliciesFileAtStart(meshFile);
  const trustSource = config && meshFile !== undefined ? { trustDomain: config.trustDomain, name: `mesh file ${meshFile}` } : undefined;
  const trustDomain = trustSource ? resolveTrustDomain(args, trustSource) : (args.trustDomain ?? DEFAULT_TRUST_DOMAIN);
  const clusterDomain = config?.clusterDomain ?? 'cluster.local';
  const discovery = new DockerDiscoverEndpoints(new DockerodeEngine(args.dockerSocket), {
    trustDomain,
    clusterDomain,
    log: dockerLog(log, args.dockerSocket),
    ...timings,
  });
  try {
    await discovery.start();
  } catch (error) {
    discovery.close();
    const detail = error instanceof Error ? error.message : String(error);
    throw new OrchestratorUnavailableError(`--orchestrator docker: ${detail} (set --docker-socket to the engine's socket)`);
  }
  return {
    ...(trustSource !== undefined && { trustSource }),
    authorityOptions: { clusterDomain },
    description: { dockerSocket: args.dockerSocket, clusterDomain, trustDomain, ...(meshFile !== undefined && { meshFile }) },
    modules: (omit) => [
      dockerModule({ discovery }),
      ...(meshFile === undefined
        ? [memoryModule({ omit: [DiscoverEndpoints, ...omit] })]
        : [meshFilePoliciesModule(meshFile, log, discovery), memoryModule({ omit: [DiscoverEndpoints, DiscoverProfile, DiscoverInboundPolicy, ...omit] })]),
      readinessModule(discovery, meshFile),
    ],
  };
}

/** The mesh file, checked once before anything is served, as a file of policies over the Docker services. */
async function readPoliciesFileAtStart(path: string): Promise<MeshConfig> {
  const loaded = await loadMeshFile(path, { externalServices: true });
  if (!loaded.ok) throw new MeshFileStartError(path, loaded.error);
  return loaded.value;
}

/**
 * The file adapter's profiles over one watched FileMeshSource (its endpoints are not used), and its inbound policies
 * applied to the Docker workloads. The file may name services it does not declare, since they live in Docker.
 */
function meshFilePoliciesModule(path: string, log: ControlLog, discovery: DockerDiscoverEndpoints): ContainerModule {
  const sourceLog: MeshSourceLog = {
    info: (message) => log('mesh-file', { file: path, message }),
    error: (message) => log('mesh-file-invalid', { file: path, message }),
  };
  return new ContainerModule(({ bind }) => {
    bind(FileMeshSource)
      .toResolvedValue(() => {
        const source = new FileMeshSource({ path, log: sourceLog, externalServices: true });
        source.start();
        return source;
      })
      .inSingletonScope()
      .onDeactivation((source) => source.close());
    bind(FileDiscoverProfile).toSelf().inSingletonScope().onDeactivation((adapter) => adapter.close());
    bind(DockerDiscoverInboundPolicy)
      .toResolvedValue(
        (source: FileMeshSource) =>
          new DockerDiscoverInboundPolicy(source, discovery, { error: (message) => log('docker-policy-error', { file: path, message }) }),
        [FileMeshSource],
      )
      .inSingletonScope()
      .onDeactivation((adapter) => adapter.close());
    bind<DiscoverProfile>(DiscoverProfile).toService(FileDiscoverProfile);
    bind<DiscoverInboundPolicy>(DiscoverInboundPolicy).toService(DockerDiscoverInboundPolicy);
  });
}

/** Ready once the containers were listed, and the mesh file (if any) loaded. */
function readinessModule(discovery: DockerDiscoverEndpoints, meshFile: string | undefined): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<OrchestratorReadiness>(OrchestratorReadiness)
      .toResolvedValue(
        (source?: FileMeshSource) => ({
          notReadyReason: () => {
            if (!discovery.isSynced()) return 'the Docker containers are not listed yet';
            if (source !== undefined && source.status().appliedAtMs === undefined) return `mesh file ${String(meshFile)} is not loaded yet`;
            return undefined;
          },
        }),
        [{ serviceIdentifier: FileMeshSource, optional: true }],
      )
      .inSingletonScope();
  });
}

function dockerLog(log: ControlLog, socket: string): DockerDiscoveryLog {
  return {
    info: (message) => log('docker-discovery', { socket, message }),
    error: (message) => log('docker-discovery-error', { socket, message }),
  };
}
