// @weft/control: the control plane, startable in-process (tests, `weft up`) as its binary weft-control starts it.
export * from './admin-server.js';
export * from './control-args.js';
export * from './control-log.js';
export * from './control-metrics.js';
export * from './control-plane.js';
export { type ControlGrpcServer, type ControlStreamingService } from './control-grpc-server.js';
export { MeshFileStartError, type MeshFileWatchTimings } from './mesh-file-orchestrator.js';
export { OrchestratorUnavailableError, type PreparedOrchestrator } from './orchestrator-modules.js';
export * from './orchestrator-readiness.js';
export * from './run-control.js';
