// OrchestratorReadiness: bound by an orchestrator's modules to hold /ready back until its source of truth is loaded.
export const OrchestratorReadiness = Symbol('OrchestratorReadiness');

export interface OrchestratorReadiness {
  /** Undefined once the source of truth was loaded at least once; else what is missing, which /ready names. */
  notReadyReason(): string | undefined;
}
