// The mesh file the control plane reads when weft up assigned proxy inbound ports: the user's file with those ports in.
import { watchFile, unwatchFile } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';

/** Assigned inbound ports by instance key (`<namespace>/<name>`). */
export type AssignedInboundPorts = ReadonlyMap<string, number>;

interface RawService {
  readonly name?: unknown;
  readonly namespace?: unknown;
  readonly instances?: unknown;
}

/**
 * `text` with `proxy: { inboundPort }` set on each instance named in `ports` that has none. Comments and layout are
 * kept; a header says where the file comes from. A text that is not a YAML mapping is returned as it is (the control
 * plane then reports its errors, with the same lines and columns).
 */
export function effectiveMeshText(text: string, ports: AssignedInboundPorts, source: string): string {
  const document = parseDocument(text);
  if (document.errors.length > 0) return text;
  const value: unknown = document.toJS();
  const services = (value as { services?: unknown } | null)?.services;
  if (!Array.isArray(services)) return text;
  for (const [i, service] of (services as RawService[]).entries()) {
    if (typeof service?.name !== 'string' || !Array.isArray(service.instances)) continue;
    const namespace = typeof service.namespace === 'string' ? service.namespace : 'default';
    for (const [j, instance] of (service.instances as { name?: unknown; proxy?: unknown }[]).entries()) {
      const name = typeof instance?.name === 'string' ? instance.name : `${service.name}-${j}`;
      const port = ports.get(`${namespace}/${name}`);
      if (port === undefined || instance?.proxy !== undefined) continue;
      document.setIn(['services', i, 'instances', j, 'proxy'], document.createNode({ inboundPort: port }));
    }
  }
  const header = `# Written by weft up from ${source} with the proxy inbound ports it assigned; edit that file, not this one.\n`;
  return header + document.toString();
}

/** Writes a file whole or not at all: a reader never sees it half-written. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export interface EffectiveMeshFile {
  readonly path: string;
  /** Stops following the user's file. */
  close(): void;
}

/**
 * Writes the effective file to `target` and rewrites it whenever `source` changes (checked every `pollMs`), so edits of
 * the user's file still reach the control plane, which watches `target`.
 */
export async function writeEffectiveMeshFile(
  source: string,
  target: string,
  ports: AssignedInboundPorts,
  pollMs = 500,
): Promise<EffectiveMeshFile> {
  const write = async () => writeAtomically(target, effectiveMeshText(await readFile(source, 'utf8'), ports, source));
  await write();
  const listener = () => void write().catch(() => undefined); // a file caught missing is written again when it is back
  watchFile(source, { interval: pollMs }, listener);
  return { path: target, close: () => unwatchFile(source, listener) };
}
