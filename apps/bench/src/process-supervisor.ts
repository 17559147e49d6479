// Starts the backend, proxies and load tools as child processes (pinned with taskset when asked) and makes sure none outlive the run.
import { type ChildProcess, spawn } from 'node:child_process';

export interface ChildSpec {
  /** Short name for messages, e.g. "haproxy (h2c)". */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  /** CPU to pin to with `taskset -c`, or undefined to leave it to the scheduler. */
  readonly cpu?: number | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ToolRun {
  readonly commandLine: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const outputLimit = 4 * 1024 * 1024;

/** One child in its own process group, so stopping it also stops what it forked (nginx's worker). */
export class SupervisedProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stdout = '';
  private stderr = '';
  private running = true;

  constructor(
    readonly label: string,
    readonly commandLine: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout = capped(this.stdout + chunk)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = capped(this.stderr + chunk)));
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        this.stderr += `\n${error.message}`;
        this.running = false;
        resolve({ code: null, signal: null });
      });
      child.on('close', (code, signal) => {
        this.running = false;
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get output(): { readonly stdout: string; readonly stderr: string } {
    return { stdout: this.stdout, stderr: this.stderr };
  }

  /** SIGTERM to the whole group, then SIGKILL after `graceMs`; resolves once the child is gone. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.signalGroup('SIGTERM');
    const killer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
    this.signalGroup('SIGKILL'); // a forked worker that ignored SIGTERM
  }

  /** For process exit handlers, which cannot wait. */
  killNow(): void {
    if (this.running) this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

export class ProcessSupervisor {
  /** Every command line started, in order, for the report. */
  readonly commandLog: string[] = [];
  private readonly children = new Set<SupervisedProcess>();

  /** Starts a long-running child (backend, proxy); the caller stops it, or stopAll does. */
  start(spec: ChildSpec): SupervisedProcess {
    const [command, args] = spec.cpu === undefined ? [spec.command, spec.args] : ['taskset', ['-c', String(spec.cpu), spec.command, ...spec.args]];
    const commandLine = [command, ...args].map(shellQuote).join(' ');
    this.commandLog.push(commandLine);
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env });
    const supervised = new SupervisedProcess(spec.label, commandLine, child);
    this.children.add(supervised);
    void supervised.exited.then(() => this.children.delete(supervised));
    return supervised;
  }

  /** Runs a tool to completion, killing it if it outlives `timeoutMs`. */
  async run(spec: ChildSpec, timeoutMs: number): Promise<ToolRun> {
    const child = this.start(spec);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void child.stop(1_000);
    }, timeoutMs);
    const { code } = await child.exited;
    clearTimeout(timer);
    return { commandLine: child.commandLine, code, ...child.output, timedOut };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => child.stop()));
  }

  killAllNow(): void {
    for (const child of this.children) child.killNow();
  }
}

function capped(text: string): string {
  return text.length > outputLimit ? text.slice(text.length - outputLimit) : text;
}

/** Quotes an argument for a POSIX shell when it needs it, so logged commands can be pasted. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
