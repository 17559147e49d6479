// Test helpers: build the demo, run its built services as child processes on free ports, and stop them.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DemoServiceName, demoServiceEntry } from './demo-mesh-file.js';
import { type HostPort, parseHostPort } from './host-port.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Builds apps/demo (incremental: quick when dist is up to date). */
export function buildDemo(): void {
  execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'apps/demo/tsconfig.lib.json'], { cwd: repoRoot });
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running built service. */
export interface DemoProcess {
  readonly child: ChildProcess;
  readonly address: HostPort;
  /** Its start line. */
  readonly line: string;
  readonly exited: Promise<Exit>;
  stderr(): string;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<Exit>;
}

const running = new Set<ChildProcess>();

/**
 * Runs dist/<name>.js with only PATH and `env` in its environment, from a directory that is not the package's,
 * on port 0 unless `env` says otherwise; resolves once it logged its start line.
 */
export function startDemoProcess(name: DemoServiceName, env: Record<string, string>): Promise<DemoProcess> {
  const child = spawn(process.execPath, [demoServiceEntry(name)], {
    cwd: tmpdir(),
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(() => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not log its start line in 10 s; stderr: ${stderr}`)), 10_000);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${exit.code ?? exit.signal}) before starting; stderr: ${stderr}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += String(chunk);
      const line = stdout.split('\n')[0] ?? '';
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      const address = parseHostPort(/listening on (\S+?),? /.exec(line)?.[1] ?? '');
      if (!address) return reject(new Error(`${name} logged no address: ${line}`));
      resolve({
        child,
        address,
        line,
        exited,
        stderr: () => stderr,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** Runs dist/<name>.js to its end (for settings it refuses); returns its exit and what it wrote to stderr. */
export async function runDemoProcessToExit(name: DemoServiceName, env: Record<string, string>): Promise<Exit & { stderr: string }> {
  const child = spawn(process.execPath, [demoServiceEntry(name)], { cwd: tmpdir(), env: { PATH: process.env['PATH'] ?? '', ...env } });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  const exit = await new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  running.delete(child);
  return { ...exit, stderr };
}

/** Kills what a failed test left running. */
export function killDemoProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
