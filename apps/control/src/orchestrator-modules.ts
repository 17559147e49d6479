// Picks the container modules that back the core ports for the chosen orchestrator; nothing else changes between them.
import { memoryModule } from '@weft/adapter-memory';
import type { ContainerModule } from 'inversify';
import type { Orchestrator } from './control-args.js';

export class OrchestratorUnavailableError extends Error {
  override readonly name = 'OrchestratorUnavailableError';
}

/** The adapter modules of each orchestrator this build carries. */
const modulesByOrchestrator: Partial<Record<Orchestrator, (omit: readonly symbol[]) => ContainerModule[]>> = {
  memory: (omit) => [memoryModule({ omit })],
};

/** The orchestrator's modules, leaving unbound the ports in `omit` (bound by another module, e.g. the identity backend). */
export function orchestratorModules(orchestrator: Orchestrator, omit: readonly symbol[] = []): ContainerModule[] {
  const make = modulesByOrchestrator[orchestrator];
  if (!make) {
    const available = Object.keys(modulesByOrchestrator).join(', ');
    throw new OrchestratorUnavailableError(
      `the ${orchestrator} orchestrator is not part of this build of weft-control; available: ${available}`,
    );
  }
  return make(omit);
}
