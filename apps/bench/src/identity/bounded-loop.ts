// runBoundedLoop: runs an async task again and again, a few at a time, until a count or a time is reached; it always stops.

export interface BoundedLoopSettings {
  /** No task starts after this many have started. */
  readonly maxCount: number;
  /** No task starts after this many milliseconds. */
  readonly durationMs: number;
  /** Tasks in flight at once. */
  readonly concurrency: number;
  /** Milliseconds since some fixed point; performance.now() unless a test gives its own. */
  readonly now?: () => number;
}

export interface BoundedLoopResult {
  readonly completed: number;
  readonly failed: number;
  /** From the first start to the last task's end. */
  readonly seconds: number;
  /** The first failure's message, for the report. */
  readonly firstError: string | undefined;
}

/**
 * Starts `task(index)` up to `concurrency` at a time until `maxCount` have started or `durationMs` has passed, then
 * waits for those in flight. A task that rejects counts as failed; the loop carries on.
 */
export async function runBoundedLoop(settings: BoundedLoopSettings, task: (index: number) => Promise<void>): Promise<BoundedLoopResult> {
  const now = settings.now ?? (() => performance.now());
  const started = now();
  const deadline = started + settings.durationMs;
  let next = 0;
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < settings.maxCount && now() < deadline) {
      const index = next;
      next += 1;
      try {
        await task(index);
        completed += 1;
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  const workers = Math.max(1, Math.min(settings.concurrency, settings.maxCount));
  await Promise.all(Array.from({ length: workers }, worker));
  return { completed, failed, seconds: (now() - started) / 1_000, firstError };
}
