// Runs weft-control as a process does: parse, start, serve until SIGTERM or SIGINT, stop gracefully within a bound.
import { CONTROL_USAGE, type ControlArgs, parseControlArgs } from './control-args.js';
import type { ControlLog } from './control-log.js';
import { type ControlPlaneOptions, type RunningControlPlane, startControlPlane } from './control-plane.js';
import { type RunningSidecarInjection, startSidecarInjection } from './docker/start-sidecar-injection.js';

/** Exit codes: 0 after a clean stop (or --help), 1 when the stop outlived its bound, 2 when the start failed. */
export const CONTROL_EXIT = { stopped: 0, stopTimedOut: 1, startFailed: 2 } as const;

/** The stop signals, as `process` delivers them. */
export interface ControlSignals {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface RunControlOptions extends Omit<ControlPlaneOptions, 'log'> {
  readonly signals: ControlSignals;
  readonly log: ControlLog;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** How long a graceful stop may take before the process gives up on it; 10 s when absent. */
  readonly stopTimeoutMs?: number;
  /** Starts the control plane; startControlPlane when absent. */
  readonly start?: typeof startControlPlane;
  /** Starts sidecar injection (--orchestrator docker with --docker-inject true); startSidecarInjection when absent. */
  readonly startInjection?: (args: ControlArgs, control: RunningControlPlane, log: ControlLog) => Promise<RunningSidecarInjection>;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Resolves with the exit code once the control plane has stopped (or failed to start, naming why on stderr). The
 * first SIGTERM or SIGINT starts a graceful stop; a second one, or the stop timeout, gives up waiting for it.
 */
export async function runControl(argv: readonly string[], options: RunControlOptions): Promise<number> {
  const {
    signals,
    log,
    stdout,
    stderr,
    stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS,
    start = startControlPlane,
    startInjection = startSidecarInjection,
    ...planeOptions
  } = options;
  let control: RunningControlPlane | undefined;
  let injection: RunningSidecarInjection | undefined;
  try {
    const args = parseControlArgs(argv);
    if (args.help) {
      stdout(`${CONTROL_USAGE}\n`);
      return CONTROL_EXIT.stopped;
    }
    control = await start(args, { ...planeOptions, log });
    // Sidecars are started once the control plane serves: they dial it as soon as they run.
    if (args.orchestrator === 'docker' && args.dockerInject) injection = await startInjection(args, control, log);
  } catch (error) {
    stderr(`weft-control: ${error instanceof Error ? error.message : String(error)}\n`);
    await control?.close();
    return CONTROL_EXIT.startFailed;
  }
  const running = control;
  const signal = await new Promise<string>((resolve) => {
    const onTerm = (): void => stopOn('SIGTERM');
    const onInt = (): void => stopOn('SIGINT');
    const stopOn = (name: string): void => {
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      resolve(name);
    };
    signals.once('SIGTERM', onTerm);
    signals.once('SIGINT', onInt);
  });
  log('stopping', { signal, timeoutMs: stopTimeoutMs });
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let forced: (() => void) | undefined;
  const givenUp = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the stop took longer than ${stopTimeoutMs} ms`), stopTimeoutMs);
    forced = () => resolve('a second signal came before the stop was done');
    signals.once('SIGTERM', forced);
    signals.once('SIGINT', forced);
  });
  const stopped = (async () => {
    // The sidecars keep running: a restarted control plane adopts them.
    await injection?.close();
    await running.close();
  })();
  const outcome = await Promise.race([stopped.then(() => undefined), givenUp]);
  clearTimeout(timer);
  if (forced !== undefined) {
    signals.off('SIGTERM', forced);
    signals.off('SIGINT', forced);
  }
  if (outcome !== undefined) {
    log('stop-abandoned', { reason: outcome });
    return CONTROL_EXIT.stopTimedOut;
  }
  log('stopped', { tookMs: Date.now() - started });
  return CONTROL_EXIT.stopped;
}
