// The file orchestrator: the mesh file checked at start (refused with every error located), then served and watched by the file adapter.
import {
  FileMeshSource,
  type FileMeshSourceOptions,
  fileModule,
  loadMeshFile,
  type MeshConfig,
  type MeshFileError,
  type MeshSourceLog,
} from '@weft/adapter-file';
import { memoryModule } from '@weft/adapter-memory';
import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { ContainerModule } from 'inversify';
import type { ControlLog } from './control-log.js';
import type { ControlMetrics } from './control-metrics.js';
import { OrchestratorReadiness } from './orchestrator-readiness.js';

/** How the mesh file is watched; the file adapter's defaults (100 ms debounce, 1 s poll, 300 ms settle) when absent. */
export type MeshFileWatchTimings = Pick<FileMeshSourceOptions, 'debounceMs' | 'pollIntervalMs' | 'settleMs' | 'watch'>;

/** A mesh file that cannot be served at start: every error, each as `file:line:column field: what is wrong`. */
export class MeshFileStartError extends Error {
  override readonly name = 'MeshFileStartError';

  constructor(
    readonly path: string,
    readonly errors: readonly MeshFileError[],
  ) {
    const count = errors.length === 1 ? 'has an error' : `has ${errors.length} errors`;
    super(`mesh file ${path} ${count}; fix it and start again:\n${errors.map((error) => `  ${error.message}`).join('\n')}`);
  }
}

/**
 * Reads and checks the mesh file once, before anything is served: a control plane never starts on a file it would
 * serve as an empty mesh.
 * @throws MeshFileStartError with the file's errors (a missing or unreadable file is one error naming it).
 */
export async function readMeshFileAtStart(path: string): Promise<MeshConfig> {
  const loaded = await loadMeshFile(path);
  if (!loaded.ok) throw new MeshFileStartError(path, loaded.error);
  return loaded.value;
}

export interface MeshFileModulesOptions {
  readonly path: string;
  /** Ports another module binds (the identity backend's); without --identity-dir, identity is the in-memory one. */
  readonly omit: readonly symbol[];
  readonly metrics: ControlMetrics;
  readonly log: ControlLog;
  readonly watch?: MeshFileWatchTimings;
}

/**
 * The file adapter (DiscoverEndpoints, DiscoverProfile, DiscoverInboundPolicy over one watched FileMeshSource), the
 * in-memory identity ports unless omitted, and OrchestratorReadiness: ready once the file was loaded at least once.
 */
export function meshFileModules(options: MeshFileModulesOptions): ContainerModule[] {
  const watch = new MeshFileWatch(options.path, options.metrics, options.log);
  return [
    fileModule({ path: options.path, log: watch.sourceLog, ...options.watch }),
    memoryModule({ omit: [DiscoverEndpoints, DiscoverProfile, DiscoverInboundPolicy, ...options.omit] }),
    new ContainerModule(({ bind }) => {
      bind<OrchestratorReadiness>(OrchestratorReadiness)
        .toResolvedValue((source: FileMeshSource) => watch.attach(source), [FileMeshSource])
        .inSingletonScope();
    }),
  ];
}

/**
 * Turns what the FileMeshSource reports into control-plane log events and metrics: `mesh-file` (loaded, applied,
 * valid again), `mesh-file-invalid` and `mesh-file-missing` (the last good configuration stays served),
 * `mesh-file-listener-failed`, and `mesh-file-needs-restart` when an edit changes the trust or cluster domain, which
 * the Identity service and the request paths keep from the start.
 */
class MeshFileWatch implements OrchestratorReadiness {
  private source: FileMeshSource | undefined;

  constructor(
    private readonly path: string,
    private readonly metrics: ControlMetrics,
    private readonly log: ControlLog,
  ) {}

  readonly sourceLog: MeshSourceLog = {
    info: (message) => {
      this.log('mesh-file', { file: this.path, message });
      if (this.source?.status().state === 'loaded') this.metrics.setMeshFileValid(true);
    },
    // The source sets its state before it logs, so the state says what the message is about.
    error: (message) => {
      const state = this.source?.status().state;
      if (state === 'invalid' || state === 'missing') {
        this.metrics.meshFileReloaded(state);
        this.log(`mesh-file-${state}`, { file: this.path, message });
      } else if (this.source === undefined) {
        this.log('mesh-file-invalid', { file: this.path, message });
      } else {
        this.log('mesh-file-listener-failed', { file: this.path, message });
      }
    },
  };

  /** Follows `source` (already started by the file adapter) from now on. */
  attach(source: FileMeshSource): this {
    this.source = source;
    this.metrics.watchMeshFile();
    this.metrics.setMeshFileValid(source.status().state === 'loaded');
    const started = source.current();
    source.onChange((config) => {
      this.metrics.meshFileReloaded('applied');
      const changed = (['trustDomain', 'clusterDomain'] as const).filter((field) => config[field] !== started[field]);
      if (changed.length > 0) {
        this.log('mesh-file-needs-restart', {
          file: this.path,
          message: `${changed.map((field) => `${field} changed from ${started[field]} to ${config[field]}`).join(', ')}; ` +
            'certificates and request paths keep the values read at start until weft-control restarts',
        });
      }
    });
    return this;
  }

  notReadyReason(): string | undefined {
    const status = this.source?.status();
    if (status?.appliedAtMs !== undefined) return undefined;
    const [first] = status?.errors ?? [];
    return `mesh file ${this.path} is not loaded yet${first === undefined ? '' : ` (${first.message})`}`;
  }
}
