// SupervisedChild: one child process of weft up, its output appended to a log file, restarted with backoff when it dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { DEFAULT_RESTART_POLICY, restartDelayMs, type RestartPolicy } from './restart-backoff.js';

export interface ChildSpec {
  /** For messages, e.g. "web-0 (app)". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Run `command` as one shell command line (args must then be empty). */
  readonly shell?: boolean;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** stdout and stderr are appended here, with a line at each start and exit. */
  readonly logFile: string;
}

export type ChildState = 'running' | 'restarting' | 'stopping' | 'stopped';

export type ChildEvent =
  | { readonly type: 'started'; readonly pid: number; readonly restarts: number }
  | { readonly type: 'exited'; readonly code: number | null; readonly signal: string | null; readonly restartInMs: number }
  | { readonly type: 'failed-to-start'; readonly error: Error; readonly restartInMs: number };

export interface SupervisedChildOptions {
  readonly restart?: RestartPolicy;
  readonly onEvent?: (event: ChildEvent) => void;
  readonly now?: () => number;
}

/**
 * Starts the child in its own process group (so a shell command's own children are stopped with it, and a Ctrl-C in
 * the terminal reaches weft up only, which stops the children in order). Every death but one asked for by stop() is
 * followed by a restart after restartDelayMs.
 */
export class SupervisedChild {
  private child: ChildProcess | undefined;
  private currentState: ChildState = 'stopped';
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private startedAt = 0;
  private restartCount = 0;
  private exitWaiters: (() => void)[] = [];
  private readonly policy: RestartPolicy;
  private readonly now: () => number;

  constructor(
    readonly spec: ChildSpec,
    private readonly options: SupervisedChildOptions = {},
  ) {
    this.policy = options.restart ?? DEFAULT_RESTART_POLICY;
    this.now = options.now ?? (() => Date.now());
  }

  get state(): ChildState {
    return this.currentState;
  }

  /** The pid of the running child, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the child was started again after dying. */
  get restarts(): number {
    return this.restartCount;
  }

  start(): void {
    if (this.currentState === 'running') return;
    this.launch();
  }

  /**
   * SIGTERM to the child's process group, SIGKILL after `graceMs`, and no restart. Resolves once the child has exited
   * (at once when none runs).
   */
  async stop(graceMs: number): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined) {
      this.currentState = 'stopped';
      return;
    }
    this.currentState = 'stopping';
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    signalGroup(child, 'SIGTERM');
    const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
    signalGroup(child, 'SIGKILL'); // whatever the child left behind in its group
  }

  /** SIGKILL at once and no restart; for process exit handlers, which cannot wait. */
  killNow(): void {
    clearTimeout(this.restartTimer);
    if (this.child) signalGroup(this.child, 'SIGKILL');
    this.currentState = 'stopped';
  }

  private launch(): void {
    this.restartTimer = undefined;
    this.currentState = 'running';
    this.startedAt = this.now();
    const { spec } = this;
    const commandLine = spec.shell ? spec.command : [spec.command, ...spec.args].join(' ');
    log(spec.logFile, `--- weft up: starting ${spec.name} at ${new Date().toISOString()}: ${commandLine}`);
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.shell ? [] : [...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        shell: spec.shell ?? false,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } catch (error) {
      closeSync(fd);
      this.failedToStart(error as Error);
      return;
    }
    closeSync(fd); // the child has its own copy of the descriptor
    this.child = child;
    let ended = false;
    child.once('error', (error) => {
      if (ended) return;
      ended = true;
      this.child = undefined;
      this.failedToStart(error);
    });
    child.once('exit', (code, signal) => {
      if (ended) return;
      ended = true;
      this.child = undefined;
      this.exited(code, signal);
    });
    if (child.pid !== undefined) this.options.onEvent?.({ type: 'started', pid: child.pid, restarts: this.restartCount });
  }

  private failedToStart(error: Error): void {
    log(this.spec.logFile, `--- weft up: ${this.spec.name} could not start: ${error.message}`);
    if (this.settleStop()) return;
    const restartInMs = this.scheduleRestart();
    this.options.onEvent?.({ type: 'failed-to-start', error, restartInMs });
  }

  private exited(code: number | null, signal: string | null): void {
    log(this.spec.logFile, `--- weft up: ${this.spec.name} exited (${signal === null ? `code ${code}` : signal}) at ${new Date().toISOString()}`);
    if (this.settleStop()) return;
    const restartInMs = this.scheduleRestart();
    this.options.onEvent?.({ type: 'exited', code, signal, restartInMs });
  }

  /** True when the death was asked for: wakes stop() instead of restarting. */
  private settleStop(): boolean {
    if (this.currentState !== 'stopping' && this.currentState !== 'stopped') return false;
    this.currentState = 'stopped';
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const wake of waiters) wake();
    return true;
  }

  private scheduleRestart(): number {
    this.failures = this.now() - this.startedAt >= this.policy.stableAfterMs ? 1 : this.failures + 1;
    const delay = restartDelayMs(this.failures, this.policy);
    this.currentState = 'restarting';
    this.restartTimer = setTimeout(() => {
      this.restartCount++;
      this.launch();
    }, delay);
    return delay;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

function log(file: string, line: string): void {
  try {
    appendFileSync(file, `${line}\n`);
  } catch {
    // A log line that cannot be written must not stop the supervision.
  }
}
