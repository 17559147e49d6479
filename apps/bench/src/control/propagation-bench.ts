// The endpoint-propagation scenario: weft-control serving a mesh file, 100 proxy-side clients watching it, the file edited and each change timed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from '../bench-options.js';
import type { RunOutcome } from '../bench-results.js';
import { clockTicks, sampleProcessTree } from '../process-stats.js';
import type { ProcessSupervisor, ToolRun } from '../process-supervisor.js';
import { startControlPlaneProcess } from '../identity/control-plane-process.js';
import { freeLoopbackPorts } from '../identity/free-loopback-ports.js';
import { fetchProxyMetrics } from '../identity/meshed-connections.js';
import { createMeshIdentityMaterial, type MeshIdentityMaterial } from '../identity/mesh-identity-material.js';
import { meshFileReloads } from './mesh-file-reloads.js';
import { propagationMeshFile } from './propagation-mesh-file.js';
import { PROPAGATION_ROW, PROPAGATION_SCENARIO_IDS, type PropagationScenarioId } from './propagation-scenario-ids.js';
import { propagationHelperTimeoutMs, type PropagationSettings, propagationSettings } from './propagation-settings.js';
import { parsePropagationReport, type PropagationReport, summarizePropagation } from './propagation-summary.js';

export interface PropagationBenchDeps {
  readonly options: BenchOptions;
  readonly supervisor: ProcessSupervisor;
  /** The client process's core. */
  readonly loadCpu: number | undefined;
  /** The control plane's core: the one the proxy under test gets in the other scenarios. */
  readonly proxyCpu: number | undefined;
  /** apps/bench/dist: the helper is in its control/ folder. */
  readonly helperDir: string;
  readonly repoRoot: string;
  /** The run's temporary folder (removed by the harness). */
  readonly root: string;
  /** Loopback ports the run already listens on (backend, sink). */
  readonly takenPorts: readonly number[];
  recordConfig(title: string, text: string): void;
}

function failure(error: unknown): RunOutcome {
  return { ok: false, error: error instanceof Error ? error.message : String(error) };
}

function toolFailed(run: ToolRun): string | undefined {
  if (run.timedOut) return `timed out: ${run.commandLine}`;
  if (run.code !== 0) return `exit ${run.code}: ${run.commandLine}: ${(run.stderr || run.stdout).trim().slice(-500)}`;
  return undefined;
}

/** CPU seconds a process tree has used so far, or undefined once it is gone. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  const sample = pid === undefined ? undefined : sampleProcessTree(pid);
  return sample === undefined ? undefined : sample.cpuTicks / clockTicks();
}

/** Why endpoint-propagation did not run although chosen, or undefined when it runs. */
export function propagationScenariosSkipped(options: Pick<BenchOptions, 'contenders' | 'scenarios'>): string | undefined {
  const chosen = PROPAGATION_SCENARIO_IDS.filter((id) => options.scenarios.includes(id));
  if (chosen.length === 0 || options.contenders.includes('weft')) return undefined;
  return `${chosen.join(', ')} not run: it measures Weft's control plane, and weft is not among --contenders`;
}

/** The run's figures and notes from the helper's report and the control plane's count of applied edits. */
export function propagationOutcome(report: PropagationReport, applied: number | undefined, controlCpuSeconds: number | undefined): RunOutcome {
  const summary = summarizePropagation(report);
  const edits = report.warmupChanges + report.delaysMs.length;
  const notes: string[] = [];
  if (summary.missed > 0) {
    notes.push(`${summary.missed} of ${summary.pairs} (change, subscriber) pairs never got the change within ${report.changeTimeoutMs} ms; the percentiles rank them last`);
  }
  if (applied !== edits) notes.push(`the control plane counted ${applied ?? 'no'} applied edits of the mesh file for the ${edits} written`);
  return {
    ok: true,
    metrics: {
      p50Ms: summary.p50Ms,
      p90Ms: summary.p90Ms,
      p99Ms: summary.p99Ms,
      maxMs: summary.maxMs,
      firstMs: summary.firstMs,
      firstMaxMs: summary.firstMaxMs,
      spreadMs: summary.spreadMs,
      pairs: summary.pairs,
      missed: summary.missed,
      subscribers: report.subscribers,
      changes: report.delaysMs.length,
      firstMessagesMs: report.firstMessagesMs,
      writeMaxMs: report.writeMs.length === 0 ? undefined : Math.max(...report.writeMs),
      appliedEdits: applied,
      controlCpuSeconds,
    },
    notes,
    histogram: summary.histogram.toData(),
  };
}

/** Runs endpoint-propagation once per run of the harness, each time on a fresh control plane and mesh file. */
export class PropagationBench {
  /** The command lines the scenario started in the first run. */
  commands: readonly string[] = [];
  private material: Promise<MeshIdentityMaterial> | undefined;

  constructor(private readonly deps: PropagationBenchDeps) {}

  /** The chosen scenarios; none when Weft is left out of the run. */
  get scenarios(): PropagationScenarioId[] {
    const { options } = this.deps;
    if (propagationScenariosSkipped(options) !== undefined) return [];
    return PROPAGATION_SCENARIO_IDS.filter((id) => options.scenarios.includes(id));
  }

  async runOnce(run: number, record: (id: PropagationScenarioId, row: string, outcome: RunOutcome) => void): Promise<void> {
    for (const id of this.scenarios) {
      const firstCommand = this.deps.supervisor.commandLog.length;
      let outcome: RunOutcome;
      try {
        outcome = await this.measure(propagationSettings(this.deps.options));
      } catch (error) {
        outcome = failure(error);
      }
      if (run === 0) this.commands = this.deps.supervisor.commandLog.slice(firstCommand);
      record(id, PROPAGATION_ROW, outcome);
    }
  }

  private async measure(settings: PropagationSettings): Promise<RunOutcome> {
    const { deps } = this;
    // weft-control is run as `weft up` runs it, with X.509 identity; the identity plays no part in the figures.
    this.material ??= createMeshIdentityMaterial(join(deps.root, 'propagation-identity'));
    const material = await this.material;
    const workDir = mkdtempSync(join(deps.root, 'endpoint-propagation-'));
    const meshFile = join(workDir, 'mesh.yaml');
    const initial = propagationMeshFile(0);
    writeFileSync(meshFile, initial);
    deps.recordConfig('endpoint propagation: mesh.yaml served by weft-control (before the first change)', initial);
    const [grpcPort, adminPort] = (await freeLoopbackPorts(2, new Set(deps.takenPorts))) as [number, number];
    const control = await startControlPlaneProcess({ repoRoot: deps.repoRoot, supervisor: deps.supervisor, cpu: deps.proxyCpu, grpcPort, adminPort, identityDir: material.dir, meshFile });
    try {
      const before = cpuSecondsOf(control.pid);
      const run = await deps.supervisor.run(
        {
          label: 'endpoint-propagation',
          command: process.execPath,
          args: [
            join(deps.helperDir, 'control', 'endpoint-propagation-main.js'),
            ...['--addr', control.grpcAddr, '--mesh-file', meshFile, '--subscribers', String(settings.subscribers)],
            ...['--changes', String(settings.changes), '--warmup-changes', String(settings.warmupChanges), '--spacing-ms', String(settings.spacingMs)],
            ...['--phase-spread-ms', String(settings.phaseSpreadMs)],
            ...['--first-message-timeout-ms', String(settings.firstMessageTimeoutMs), '--change-timeout-ms', String(settings.changeTimeoutMs)],
          ],
          cpu: deps.loadCpu,
        },
        propagationHelperTimeoutMs(settings),
      );
      const after = cpuSecondsOf(control.pid);
      const problem = toolFailed(run);
      if (problem !== undefined) return failure(problem);
      const parsed = parsePropagationReport(run.stdout);
      if (!parsed.ok) return failure(parsed.error.reason);
      const applied = meshFileReloads(await fetchProxyMetrics(adminPort), 'applied');
      return propagationOutcome(parsed.value, applied, before === undefined || after === undefined ? undefined : after - before);
    } finally {
      await control.stop();
    }
  }
}
