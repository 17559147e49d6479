// Test helpers: a mesh file in a temporary directory with a FileMeshSource on it, and a log that records messages.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FileMeshSource, type FileMeshSourceOptions, type MeshSourceLog } from './file-mesh-source.js';
import type { MeshFile } from './mesh-file.js';

/** Keeps every message, so tests can count the errors a source logged. */
export class RecordingLog implements MeshSourceLog {
  readonly infos: string[] = [];
  readonly errors: string[] = [];

  info(message: string): void {
    this.infos.push(message);
  }

  error(message: string): void {
    this.errors.push(message);
  }
}

/** The text of a mesh file document. */
export function meshText(file: MeshFile): string {
  return stringify(file);
}

export const EMPTY_MESH = 'apiVersion: weft.io/v1\n';

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs` with `describe()`. */
export async function until(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A mesh file in a fresh temporary directory, watched by a started FileMeshSource. */
export class MeshFileFixture {
  private constructor(
    readonly dir: string,
    readonly path: string,
    readonly source: FileMeshSource,
    readonly log: RecordingLog,
  ) {}

  /**
   * Writes `text` (a minimal mesh by default; no file for null) as mesh.yaml, then starts a source on it with short
   * timings changed by `options`, or with the source's own defaults.
   */
  static async create(text: string | null = EMPTY_MESH, options: Partial<FileMeshSourceOptions> | 'default timings' = {}): Promise<MeshFileFixture> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-mesh-'));
    const path = join(dir, 'mesh.yaml');
    if (text !== null) await writeFile(path, text);
    const log = new RecordingLog();
    const timings = options === 'default timings' ? {} : { debounceMs: 20, pollIntervalMs: 200, settleMs: 150, ...options };
    const source = new FileMeshSource({ path, log, ...timings });
    source.start();
    return new MeshFileFixture(dir, path, source, log);
  }

  /** Writes the file in place, as `echo > mesh.yaml` does. */
  async write(text: string): Promise<void> {
    await writeFile(this.path, text);
  }

  /** Writes the file and waits until the source has applied exactly this text. */
  async writeAndWait(text: string, timeoutMs = 3_000): Promise<void> {
    await this.write(text);
    await until(
      () => this.source.status().appliedText === text && this.source.status().state === 'loaded',
      timeoutMs,
      () => `the source did not apply the new file; its state is ${this.source.status().state}: ${this.log.errors.join('\n')}`,
    );
  }

  async close(): Promise<void> {
    this.source.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
