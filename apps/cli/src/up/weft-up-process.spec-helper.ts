// Test helper: builds what weft up starts, talks to the built CLI run as a child process, and cleans up after it.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file is apps/cli/{src,dist}/up/: the repository is four folders up either way. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The built CLI, as `npm start` runs it. */
export const CLI_MAIN = join(REPO_ROOT, 'apps/cli/dist/main.js');

/** Builds the given tsconfig projects (and what they reference) with the repository's TypeScript. */
export function buildWithTsc(projects: readonly string[]): void {
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', ...projects], { cwd: REPO_ROOT, stdio: 'pipe' });
}

/** A GET on 127.0.0.1 on a connection of its own; rejects after 10 s without an answer. */
export function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `pattern` shows in what the process printed; rejects if it exits or `timeoutMs` passes first. */
export function waitForOutput(child: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = output().match(pattern);
      if (match) {
        clearInterval(timer);
        resolve(match);
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`no ${pattern} in the output of weft up (exit code ${child.exitCode}):\n${output()}`));
      }
    };
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(check, 100);
  });
}

/** Every pid weft up printed (`pid N` in its start-up summary and restart lines). */
export function printedPids(stdout: string): number[] {
  return [...stdout.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]));
}

/**
 * After a failed test: stops weft up as a user would (SIGTERM, SIGKILL after 30 s), then kills whatever it printed a
 * pid for that is still running, so that no process outlives the test.
 */
export async function stopLeftovers(running: ChildProcess | undefined, stdout: string): Promise<void> {
  if (running !== undefined && running.exitCode === null && running.signalCode === null) {
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  }
  for (const pid of printedPids(stdout)) {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}
