// FileMeshSource: the mesh file watched on disk, its last good configuration, and one log line per change of state.
import { type FSWatcher, readFileSync, statSync, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Subscription } from '@weft/core';
import { emptyMeshConfig, type MeshConfig } from './mesh-config.js';
import { MeshFileError } from './mesh-file-error.js';
import { type MeshFileParseOptions, parseMeshFile } from './parse-mesh-file.js';

/** Where the source reports what it does; `error` gets one message per bad version of the file. */
export interface MeshSourceLog {
  info(message: string): void;
  error(message: string): void;
}

/** Logs to the process's standard output and error. */
export const consoleMeshSourceLog: MeshSourceLog = {
  info: (message) => console.info(message),
  error: (message) => console.error(message),
};

export interface FileMeshSourceOptions {
  /** The mesh file, e.g. "mesh.yaml". */
  readonly path: string;
  /** Quiet time after a change event before the file is read, so a burst of writes is read once; default 100 ms. */
  readonly debounceMs?: number;
  /** How often the file's metadata is compared, in case change events are missed; default 1000 ms. */
  readonly pollIntervalMs?: number;
  /**
   * How long a file must stay invalid (or missing) before it is reported, since a writer may be halfway through or
   * an editor between removing and renaming; default 300 ms. A valid file is applied without waiting.
   */
  readonly settleMs?: number;
  /**
   * Whether to follow the directory's change events (default true). Set false on file systems that have none (some
   * network and container mounts): polling alone then finds changes, within pollIntervalMs.
   */
  readonly watch?: boolean;
  /**
   * The file holds profiles and policies over services that live elsewhere (Docker containers): its Servers may
   * select services and named ports it does not declare, and its profiles may be for such services (see
   * MeshFileParseOptions). Default false.
   */
  readonly externalServices?: boolean;
  readonly log?: MeshSourceLog;
}

/**
 * - `starting`: start() was not called yet;
 * - `loaded`: the file as it is now is the configuration in use;
 * - `invalid`: the file has errors (or cannot be read); the last good configuration stays in use;
 * - `missing`: there is no file; the last good configuration stays in use.
 */
export type MeshSourceState = 'starting' | 'loaded' | 'invalid' | 'missing';

export interface MeshSourceStatus {
  readonly state: MeshSourceState;
  readonly path: string;
  /** The errors of the file as it is now, when it is invalid. */
  readonly errors: readonly MeshFileError[];
  /** When the configuration in use was applied (epoch ms); unset before the first good file. */
  readonly appliedAtMs?: number;
  /** The text of the configuration in use. */
  readonly appliedText?: string;
}

/** Called with the new configuration and the one it replaces. */
export type MeshConfigListener = (config: MeshConfig, previous: MeshConfig) => void;

// Errors listed in one log message; the rest are counted.
const MAX_LOGGED_ERRORS = 20;

/**
 * Watches the file's directory (so a file replaced by rename, as editors save, is seen) with a debounce, and polls
 * its metadata as a fallback. A valid new version is applied and sent to the listeners; an invalid one keeps the last
 * good configuration and is logged once, with each error as `file:line:column field: what is wrong`; a deleted file
 * keeps it too and is logged once. Before the first good version the configuration is empty (no services).
 */
export class FileMeshSource {
  readonly path: string;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly settleMs: number;
  private readonly useEvents: boolean;
  private readonly parseOptions: MeshFileParseOptions;
  private readonly log: MeshSourceLog;
  private readonly listeners = new Set<MeshConfigListener>();
  private config: MeshConfig;
  private state: MeshSourceState = 'starting';
  private errors: readonly MeshFileError[] = [];
  private appliedText: string | undefined;
  private appliedAtMs: number | undefined;
  // The version (text, or "missing"/read error marker) last logged as a problem, so it is logged once.
  private reported: string | undefined;
  // A problem seen but not yet reported, waiting to settle.
  private pending: { readonly version: string; readonly sinceMs: number } | undefined;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private lastSignature = '';

  constructor(options: FileMeshSourceOptions) {
    this.path = options.path;
    this.debounceMs = options.debounceMs ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.settleMs = options.settleMs ?? 300;
    this.useEvents = options.watch ?? true;
    this.parseOptions = { externalServices: options.externalServices ?? false };
    this.log = options.log ?? consoleMeshSourceLog;
    this.config = emptyMeshConfig(options.path);
  }

  /** Reads the file once, synchronously, so the first watchers see its configuration, then starts watching. */
  start(): void {
    if (this.state !== 'starting' || this.closed) return;
    try {
      this.onText(readFileSync(this.path, 'utf8'), true);
    } catch (error) {
      if (isMissing(error)) this.onMissing(true);
      else this.onReadError(error);
    }
    this.lastSignature = fileSignatureNow(this.path);
    this.watchDirectory();
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    this.pollTimer.unref();
  }

  /** The configuration in use: the last good version of the file, or an empty one. */
  current(): MeshConfig {
    return this.config;
  }

  status(): MeshSourceStatus {
    return {
      state: this.state,
      path: this.path,
      errors: this.errors,
      ...(this.appliedAtMs === undefined ? {} : { appliedAtMs: this.appliedAtMs }),
      ...(this.appliedText === undefined ? {} : { appliedText: this.appliedText }),
    };
  }

  /** Calls `listener` each time a new configuration is applied. */
  onChange(listener: MeshConfigListener): Subscription {
    const entry: MeshConfigListener = (config, previous) => listener(config, previous);
    this.listeners.add(entry);
    return { close: () => void this.listeners.delete(entry) };
  }

  /** Logs an error that a consumer of the configuration (such as an adapter's watch listener) threw. */
  reportListenerError(what: string, error: unknown): void {
    this.log.error(`${what} of mesh file ${this.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  /** Reads the file now; resolves once it (and any check asked for meanwhile) is done. */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.checkOnce();
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops watching; the configuration stays readable. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    for (const timer of [this.pollTimer, this.debounceTimer, this.settleTimer]) clearTimeout(timer);
    clearInterval(this.pollTimer);
    this.listeners.clear();
  }

  private async checkOnce(): Promise<void> {
    if (this.closed) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (this.closed) return;
      if (isMissing(error)) this.onMissing(false);
      else this.onReadError(error);
      return;
    }
    if (!this.closed) this.onText(text, false);
  }

  private onText(text: string, starting: boolean): void {
    if (text === this.appliedText) {
      this.pending = undefined;
      if (this.state !== 'loaded') {
        const was = this.state;
        this.markLoaded();
        this.log.info(`mesh file ${this.path} is ${was === 'missing' ? 'back' : 'valid again'}, as it was when applied at ${clockTime(this.appliedAtMs)}`);
      }
      return;
    }
    if (text === this.reported) return;
    const parsed = parseMeshFile(text, this.path, this.parseOptions);
    if (parsed.ok) {
      this.apply(parsed.value, text, starting);
      return;
    }
    if (!starting && !this.settled(text)) return;
    this.report(text, 'invalid', parsed.error, `mesh file ${this.path} ${errorCount(parsed.error.length)}; ${this.keeping()}:\n${listErrors(parsed.error)}`);
  }

  private onMissing(starting: boolean): void {
    const version = '\u0000missing';
    if (this.reported === version) return;
    if (!starting && !this.settled(version)) return;
    const [what, until] = starting ? ['does not exist', 'it is created'] : ['was deleted or renamed away', 'it is back'];
    this.report(version, 'missing', [], `mesh file ${this.path} ${what}; ${this.keeping()} until ${until}`);
  }

  private onReadError(error: unknown): void {
    const reason = `cannot be read: ${(error as Error).message}`;
    const version = `\u0000${reason}`;
    if (this.reported === version) return;
    this.report(version, 'invalid', [new MeshFileError(this.path, 1, 1, '', '', reason)], `mesh file ${this.path} ${reason}; ${this.keeping()}`);
  }

  /** Whether a problem version has stayed for settleMs; if not yet, a check is scheduled for when it will have. */
  private settled(version: string): boolean {
    const now = Date.now();
    if (this.pending?.version !== version) this.pending = { version, sinceMs: now };
    const waited = now - this.pending.sinceMs;
    if (waited >= this.settleMs) return true;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => void this.check(), this.settleMs - waited);
    this.settleTimer.unref();
    return false;
  }

  private report(version: string, state: MeshSourceState, errors: readonly MeshFileError[], message: string): void {
    this.pending = undefined;
    this.reported = version;
    this.state = state;
    this.errors = errors;
    this.log.error(message);
  }

  private apply(config: MeshConfig, text: string, starting: boolean): void {
    const previous = this.config;
    this.config = config;
    this.appliedText = text;
    this.appliedAtMs = Date.now();
    this.markLoaded();
    this.log.info(`${starting ? 'loaded' : 'applied'} mesh file ${this.path}: ${summary(config)}`);
    for (const listener of [...this.listeners]) {
      try {
        listener(config, previous);
      } catch (error) {
        this.reportListenerError('a listener', error);
      }
    }
  }

  private markLoaded(): void {
    this.state = 'loaded';
    this.errors = [];
    this.pending = undefined;
    this.reported = undefined;
  }

  private keeping(): string {
    return this.appliedText === undefined
      ? 'no configuration was loaded yet, so the mesh stays empty'
      : `keeping the configuration applied at ${clockTime(this.appliedAtMs)}`;
  }

  private watchDirectory(): void {
    if (this.closed || !this.useEvents) return;
    try {
      const watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        // Some platforms do not say which file changed; then any change may be ours.
        if (filename === null || filename === basename(this.path)) this.scheduleCheck();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.watcher === watcher) this.watcher = undefined;
      });
      this.watcher = watcher;
    } catch {
      // The directory may not exist (yet): polling covers the file, and retries the watch.
      this.watcher = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    if (!this.watcher) this.watchDirectory();
    const signature = await fileSignature(this.path);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    // A check already pending (a watch event came first) will read this change too; restarting its wait would only
    // delay it.
    if (this.debounceTimer === undefined) this.scheduleCheck();
  }

  /** Checks the file once no change event has come for debounceMs (an editor's save may be several writes). */
  private scheduleCheck(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.check();
    }, this.debounceMs);
    this.debounceTimer.unref();
  }
}

// What polling compares: a change of inode (a rename), size or times means the file may have changed.
async function fileSignature(path: string): Promise<string> {
  try {
    return signatureOf(await stat(path));
  } catch (error) {
    return failedSignature(error);
  }
}

function fileSignatureNow(path: string): string {
  try {
    return signatureOf(statSync(path));
  } catch (error) {
    return failedSignature(error);
  }
}

function signatureOf(info: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

function failedSignature(error: unknown): string {
  return isMissing(error) ? 'missing' : `error:${(error as Error).message}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCount(count: number): string {
  return count === 1 ? 'has an error' : `has ${count} errors`;
}

function listErrors(errors: readonly MeshFileError[]): string {
  const shown = errors.slice(0, MAX_LOGGED_ERRORS).map((error) => `  ${error.message}`);
  if (errors.length > shown.length) shown.push(`  ... and ${errors.length - shown.length} more`);
  return shown.join('\n');
}

function summary(config: MeshConfig): string {
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    count(config.services.length, 'service'),
    count(config.instances.length, 'instance'),
    count(config.profiles.size, 'profile'),
    count(config.policy.servers.length, 'server'),
  ].join(', ');
}

function clockTime(epochMs: number | undefined): string {
  return epochMs === undefined ? 'an unknown time' : new Date(epochMs).toISOString();
}
