// SidecarEngine: the little of the Docker engine sidecar injection needs (list, inspect, run, create, copy in, start, remove, events).

/** A container as injection sees it. */
export interface EngineContainer {
  readonly id: string;
  /** Without Docker's leading "/". */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly running: boolean;
  /** When it last started (the engine's State.StartedAt); a restart of the same container changes it. */
  readonly startedAt: string;
}

/** What to create: always attached to another container's network namespace. */
export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  /** Replaces the image's entrypoint when given. */
  readonly entrypoint?: readonly string[];
  readonly cmd: readonly string[];
  /** e.g. "2102" or "root". */
  readonly user: string;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** The container whose network namespace it joins (NetworkMode container:<id>). */
  readonly networkOf: string;
  readonly capAdd: readonly string[];
}

/** A file written into a container before it starts. */
export interface ContainerFile {
  /** Its name inside the folder given to putFiles. */
  readonly name: string;
  readonly content: string;
  /** Permission bits, e.g. 0o400. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** How a run-to-completion container ended. */
export interface ContainerExit {
  readonly exitCode: number;
  /** Its stdout and stderr, interleaved. */
  readonly output: string;
}

export interface EngineEventHandlers {
  /** A container changed (created, started, died, destroyed...): its id and labels as the event carries them. */
  onContainerEvent(event: { readonly id: string; readonly action: string; readonly labels: Readonly<Record<string, string>> }): void;
  /** The stream ended: closed by the engine, broken, or closed by us (no error then). */
  onEnd(error?: Error): void;
}

export interface EngineEventStream {
  close(): void;
}

export interface SidecarEngine {
  /** Where the engine is, for messages. */
  readonly location: string;
  /** Every container carrying the label (`key` or `key=value`), running or not. */
  listContainers(label: string): Promise<EngineContainer[]>;
  /** The container by id or name; undefined when there is none. */
  inspect(idOrName: string): Promise<EngineContainer | undefined>;
  /** Creates, starts and waits for a container, then removes it; at most `timeoutMs` (it is killed then). */
  runToExit(spec: ContainerSpec, timeoutMs: number): Promise<ContainerExit>;
  /** Creates a container (not started); its id. */
  create(spec: ContainerSpec): Promise<string>;
  /** Writes files into a folder of a (created) container. */
  putFiles(id: string, folder: string, files: readonly ContainerFile[]): Promise<void>;
  start(id: string): Promise<void>;
  /** Removes a container, running or not; nothing when it is already gone. */
  remove(id: string): Promise<void>;
  /** Follows container events; resolves once the stream is open. */
  subscribe(handlers: EngineEventHandlers): Promise<EngineEventStream>;
}
