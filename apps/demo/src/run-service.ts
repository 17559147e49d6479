// The life of a demo service process: read settings, start, log one line, stop cleanly on SIGTERM or SIGINT.
import type { DemoEnv, SettingsResult } from './demo-settings.js';

/** A started service: what to say about it, and how to stop it. */
export interface RunningService {
  /** One line for the start log, such as "listening on 127.0.0.1:7011 (HTTP/1.1)". */
  readonly summary: string;
  close(): Promise<void>;
}

/** Exit codes: settings that cannot be used, and a service that could not start (a busy port...). */
export const EXIT_BAD_SETTINGS = 2;
export const EXIT_START_FAILED = 1;

/** Longest wait for a clean stop before the process exits anyway. */
const STOP_DEADLINE_MS = 5_000;

/**
 * Runs one service as the whole process. Bad settings print one line per problem and exit 2; a failed start exits 1;
 * SIGTERM or SIGINT close the service and exit 0 (1 if it would not close in time).
 */
export async function runService<T>(
  name: string,
  read: (env: DemoEnv) => SettingsResult<T>,
  start: (settings: T) => Promise<RunningService>,
): Promise<void> {
  const settings = read(process.env);
  if (!settings.ok) {
    for (const problem of settings.problems) process.stderr.write(`${name}: ${problem}\n`);
    process.exitCode = EXIT_BAD_SETTINGS;
    return;
  }
  let service: RunningService;
  try {
    service = await start(settings.value);
  } catch (error) {
    process.stderr.write(`${name}: cannot start: ${(error as Error).message}\n`);
    process.exitCode = EXIT_START_FAILED;
    return;
  }
  process.stdout.write(`${name} ${service.summary}, pid ${process.pid}\n`);
  stopOnSignals(name, service);
}

function stopOnSignals(name: string, service: RunningService): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      process.stderr.write(`${name}: did not stop within ${STOP_DEADLINE_MS} ms of ${signal}; exiting anyway\n`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${name}: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
