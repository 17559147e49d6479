// measureEndpointPropagation: 100 proxy-side Destination clients watch one service while this process edits the mesh file and times each change's arrival.
import { ControlChannel, GrpcDiscoverEndpoints } from '@weft/adapter-grpc';
import { parseAuthority, type Subscription } from '@weft/core';
import { renameSync, writeFileSync } from 'node:fs';
import { changeWriteOffsetMs } from './change-schedule.js';
import { PropagationRecorder } from './propagation-recorder.js';
import { PROPAGATION_AUTHORITY, propagationMeshFile } from './propagation-mesh-file.js';
import type { PropagationSettings } from './propagation-settings.js';
import type { PropagationReport } from './propagation-summary.js';

export interface PropagationRunSettings extends PropagationSettings {
  /** The control plane's gRPC address, "127.0.0.1:port". */
  readonly address: string;
  /** The mesh.yaml the control plane serves; it holds propagationMeshFile(0) when the run starts. */
  readonly meshFile: string;
}

/**
 * One clock: this process both writes the file and receives the updates, so a delay is the difference of two
 * performance.now() readings of one process (CLOCK_MONOTONIC), with no alignment between processes to trust. The
 * other way, stamping the write in one process and the arrival in another through performance.timeOrigin + now(),
 * adds the error of each process's timeOrigin (a wall-clock reading taken at its start, which NTP may slew or step
 * between the two starts) to every figure. The cost of this choice: all subscribers share this one event loop, so
 * the last of them waits for the others' messages to be decoded, which 100 separate proxies would not do; the
 * figures are an upper bound on that side.
 */
const now = (): number => performance.now();

/** Replaces `path` as an editor or deploy tool does: the new text in a temporary file beside it, renamed over it. */
export function replaceFileAtomically(path: string, text: string): void {
  const temporary = `${path}.next`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Resolves true once `done()` holds, false if `timeoutMs` passes first; checks every 5 ms (arrival times are stamped by the listeners, not here). */
async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() >= deadline) return false;
    await sleep(5);
  }
  return true;
}

interface Subscriber {
  readonly channel: ControlChannel;
  readonly endpoints: GrpcDiscoverEndpoints;
  readonly subscription: Subscription;
}

/** Opens the subscriptions, waits for every first message, applies the changes one by one and closes everything. */
export async function measureEndpointPropagation(settings: PropagationRunSettings): Promise<PropagationReport> {
  const target = parseAuthority(PROPAGATION_AUTHORITY);
  if (!target.ok) throw target.error;
  const total = settings.warmupChanges + settings.changes;
  const recorder = new PropagationRecorder(settings.subscribers, total);
  const opened = now();
  // Each subscriber has its own channel, hence its own HTTP/2 connection and Get stream, as separate proxies would.
  const subscribers: Subscriber[] = Array.from({ length: settings.subscribers }, (_, index) => {
    const channel = new ControlChannel({ address: settings.address });
    const endpoints = new GrpcDiscoverEndpoints(channel);
    const subscription = endpoints.watch(target.value, (update) => recorder.received(index, update, now()));
    return { channel, endpoints, subscription };
  });
  try {
    if (!(await waitFor(() => recorder.withFirstMessage === settings.subscribers, settings.firstMessageTimeoutMs))) {
      throw new Error(`${recorder.withFirstMessage} of ${settings.subscribers} subscribers got a first message within ${settings.firstMessageTimeoutMs} ms`);
    }
    const firstMessagesMs = now() - opened;
    const [problem] = recorder.firstMessageProblems;
    if (problem !== undefined) throw new Error(`${problem}: the control plane does not serve ${PROPAGATION_AUTHORITY} from the mesh file`);
    if (recorder.holding(0) !== settings.subscribers) throw new Error(`the first message lacks the initial file's endpoints for ${settings.subscribers - recorder.holding(0)} subscribers`);
    const writeMs: number[] = [];
    const firstWrite = now();
    for (let change = 1; change <= total; change += 1) {
      await sleep(firstWrite + changeWriteOffsetMs(change - 1, settings.spacingMs, settings.phaseSpreadMs) - now());
      const started = now();
      replaceFileAtomically(settings.meshFile, propagationMeshFile(change));
      // Stamped once the new file is in place: the control plane cannot see it earlier.
      const written = now();
      recorder.written(change, written);
      if (change > settings.warmupChanges) writeMs.push(written - started);
      await waitFor(() => recorder.holding(change) === settings.subscribers, settings.changeTimeoutMs);
    }
    const measured = Array.from({ length: settings.changes }, (_, index) => recorder.delaysMs(settings.warmupChanges + 1 + index));
    return {
      subscribers: settings.subscribers,
      warmupChanges: settings.warmupChanges,
      spacingMs: settings.spacingMs,
      phaseSpreadMs: settings.phaseSpreadMs,
      changeTimeoutMs: settings.changeTimeoutMs,
      firstMessagesMs,
      delaysMs: measured.map((row) => row.map((delay) => (delay === null ? null : Math.round(delay * 1_000) / 1_000))),
      writeMs: writeMs.map((ms) => Math.round(ms * 1_000) / 1_000),
    };
  } finally {
    for (const subscriber of subscribers) {
      subscriber.subscription.close();
      subscriber.endpoints.close();
      subscriber.channel.close();
    }
  }
}
