// Picks the container modules that back the core ports for the chosen orchestrator; nothing else changes between them.
import { memoryModule } from '@weft/adapter-memory';
import type { ParseAuthorityOptions } from '@weft/core';
import type { ContainerModule } from 'inversify';
import { type ControlArgs, ControlArgsError, type Orchestrator } from './control-args.js';
import type { ControlLog } from './control-log.js';
import type { ControlMetrics } from './control-metrics.js';
import { prepareDockerOrchestrator } from './docker-orchestrator.js';
import { meshFileModules, type MeshFileWatchTimings, readMeshFileAtStart } from './mesh-file-orchestrator.js';

export class OrchestratorUnavailableError extends Error {
  override readonly name = 'OrchestratorUnavailableError';
}

/** What an orchestrator may use while it prepares. */
export interface OrchestratorContext {
  readonly args: ControlArgs;
  readonly metrics: ControlMetrics;
  readonly log: ControlLog;
  /** Timings of the mesh file watch (the file orchestrator). */
  readonly meshFileWatch?: MeshFileWatchTimings;
}

/**
 * An orchestrator, ready to be loaded. Its modules bind DiscoverEndpoints, DiscoverProfile and DiscoverInboundPolicy,
 * TokenValidator and CertificateAuthority unless told to leave them out, and may bind OrchestratorReadiness. The
 * gRPC services, the identity backend and the admin server are the same whatever the orchestrator.
 */
export interface PreparedOrchestrator {
  /** The trust domain the source of truth names, and where (checked against --trust-domain). */
  readonly trustSource?: { readonly trustDomain: string; readonly name: string };
  /** How Destination request paths are read: the orchestrator's cluster domain. */
  readonly authorityOptions?: ParseAuthorityOptions;
  /** What the start log says about it. */
  readonly description: Readonly<Record<string, string>>;
  /** The modules, leaving unbound the ports in `omit` (bound by another module, e.g. the identity backend). */
  modules(omit: readonly symbol[]): ContainerModule[];
}

type PrepareOrchestrator = (context: OrchestratorContext) => Promise<PreparedOrchestrator>;

/**
 * The orchestrators this build carries. kubernetes slots in here: an entry that returns their adapter
 * modules (and, if they must, what they read before the container is built).
 */
const orchestrators: Partial<Record<Orchestrator, PrepareOrchestrator>> = {
  memory: async () => ({ description: {}, modules: (omit) => [memoryModule({ omit })] }),
  file: async ({ args, metrics, log, meshFileWatch }) => {
    const path = requiredMeshFile(args);
    const config = await readMeshFileAtStart(path);
    return {
      trustSource: { trustDomain: config.trustDomain, name: `mesh file ${path}` },
      authorityOptions: { clusterDomain: config.clusterDomain },
      description: { meshFile: path, clusterDomain: config.clusterDomain },
      modules: (omit) => meshFileModules({ path, omit, metrics, log, ...(meshFileWatch !== undefined && { watch: meshFileWatch }) }),
    };
  },
  docker: (context) => prepareDockerOrchestrator(context),
};

/**
 * Prepares the chosen orchestrator: the file orchestrator reads and checks its mesh file here, the docker one lists
 * the engine's containers.
 * @throws OrchestratorUnavailableError for an orchestrator this build does not carry or a Docker engine that does not
 * answer; MeshFileStartError for a bad mesh file.
 */
export async function prepareOrchestrator(context: OrchestratorContext): Promise<PreparedOrchestrator> {
  const prepare = orchestrators[context.args.orchestrator];
  if (!prepare) {
    const available = Object.keys(orchestrators).join(', ');
    throw new OrchestratorUnavailableError(
      `the ${context.args.orchestrator} orchestrator is not part of this build of weft-control; available: ${available}`,
    );
  }
  return prepare(context);
}

function requiredMeshFile(args: ControlArgs): string {
  if (args.meshFile === undefined) throw new ControlArgsError('--orchestrator file needs --mesh-file <file>, the mesh.yaml to serve');
  return args.meshFile;
}
