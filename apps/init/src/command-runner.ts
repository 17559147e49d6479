// Runs a program with an argument array (never through a shell) and collects its exit code and output.
import { execFile } from 'node:child_process';

export interface CommandOutcome {
  /** The exit code; 127 when the program could not be started (e.g. not installed), 128 + n when killed by signal n. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file` with `args` and resolves with the outcome, whatever the exit code; never rejects. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandOutcome>;

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ exitCode: 0, stdout, stderr });
      if (typeof error.code === 'number') return resolve({ exitCode: error.code, stdout, stderr });
      if (error.signal) return resolve({ exitCode: 128 + (signalNumbers[error.signal] ?? 0), stdout, stderr: `${stderr}killed by ${error.signal}` });
      // Not started at all: ENOENT (not installed, or not on PATH), EACCES...
      resolve({ exitCode: 127, stdout, stderr: `${stderr}${error.message}` });
    });
  });
