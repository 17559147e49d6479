// followDockerEvents: the engine's events stream, one parsed event per line, until it ends or its follower closes it.
import type Docker from 'dockerode';

/** One event of the engine's stream, as the API writes it (only the fields Weft reads). */
export interface DockerApiEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
}

export interface DockerEventsFollower {
  onEvent(event: DockerApiEvent): void;
  /** Once: undefined when the follower closed the stream, else why it ended (an engine restart, a dropped socket). */
  onEnd(error: Error | undefined): void;
}

export interface FollowedDockerEvents {
  close(): void;
}

/** A line of the stream as an event; undefined for a blank line or one that is not JSON. */
export function parseDockerEventLine(line: string): DockerApiEvent | undefined {
  if (line.trim() === '') return undefined;
  try {
    return JSON.parse(line) as DockerApiEvent;
  } catch {
    return undefined;
  }
}

/** The HTTP status of an engine API error (404 no such container, 409 conflict), undefined for other failures. */
export function dockerStatusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Subscribes to the events `filters` select (`{ type: [...], event: [...] }`) and hands each to `follower`. The
 * stream is newline-delimited JSON whose lines may be split across chunks, so a partial line waits for the rest.
 */
export async function followDockerEvents(
  docker: Docker,
  filters: Readonly<Record<string, readonly string[]>>,
  follower: DockerEventsFollower,
): Promise<FollowedDockerEvents> {
  const stream = (await docker.getEvents({ filters: JSON.stringify(filters) })) as NodeJS.ReadableStream & { destroy(): void };
  let ended = false;
  let closedByFollower = false;
  const end = (error?: Error): void => {
    if (ended) return;
    ended = true;
    follower.onEnd(closedByFollower ? undefined : (error ?? new Error('the engine ended the events stream')));
  };
  let partial = '';
  stream.on('data', (chunk: Buffer | string) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseDockerEventLine(line);
      if (event !== undefined) follower.onEvent(event);
    }
  });
  stream.on('error', (error: Error) => end(error));
  stream.on('end', () => end());
  stream.on('close', () => end());
  return {
    close: () => {
      closedByFollower = true;
      stream.destroy();
      end();
    },
  };
}
