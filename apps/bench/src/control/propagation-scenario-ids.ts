// The control-plane scenario's id and result row: a module without dependencies, read by the options parser and every helper.

export type PropagationScenarioId = 'endpoint-propagation';
export const PROPAGATION_SCENARIO_IDS: readonly PropagationScenarioId[] = ['endpoint-propagation'];

/** The one result row of endpoint-propagation: weft-control's file orchestrator, heard by proxy-side gRPC clients. */
export const PROPAGATION_ROW = 'weft-control-file';
