// The lines weft up prints once everything is ready: what runs where, its log files, and where to send a first request.
import { relative } from 'node:path';
import { entryUpstreams, type UpPlan } from './mesh-plan.js';
import type { PortAssignment } from './port-assignment.js';

export interface SummaryInput {
  readonly plan: UpPlan;
  readonly ports: PortAssignment;
  /** The log file of the control plane, and of each instance's app and proxy by instance key. */
  readonly logs: { readonly control: string; readonly apps: ReadonlyMap<string, string>; readonly proxies: ReadonlyMap<string, string> };
  /** The pid of the control plane and of each instance's app and proxy, where one runs. */
  readonly pids?: { readonly control?: number; readonly apps: ReadonlyMap<string, number>; readonly proxies: ReadonlyMap<string, number> };
  /** Paths are shown relative to this folder when they lie inside it. */
  readonly cwd: string;
}

/** The start-up report, one line per entry; instances in file order. */
export function startupSummary(input: SummaryInput): string[] {
  const { plan, ports, logs } = input;
  const show = (path: string) => shortPath(path, input.cwd);
  const pid = (value: number | undefined) => (value === undefined ? '' : `   pid ${value}`);
  const { pids } = input;
  const control = `control plane   gRPC 127.0.0.1:${ports.control.grpc}   admin http://127.0.0.1:${ports.control.admin}`;
  const lines = [`${control}   log ${show(logs.control)}${pid(pids?.control)}`];
  for (const instance of plan.instances) {
    const assigned = ports.instances.get(instance.key);
    if (assigned === undefined) continue;
    lines.push(`${instance.key}${instance.identity === undefined ? ' (not meshed)' : ''}`);
    lines.push(`  app       127.0.0.1:${assigned.app}   log ${show(logs.apps.get(instance.key) ?? '')}${pid(pids?.apps.get(instance.key))}`);
    if (assigned.proxy !== undefined) {
      const proxy = assigned.proxy;
      const log = show(logs.proxies.get(instance.key) ?? '');
      const proxyPid = pid(pids?.proxies.get(instance.key));
      lines.push(`  proxy     inbound 127.0.0.1:${proxy.inbound}   admin http://127.0.0.1:${proxy.admin}   log ${log}${proxyPid}`);
    }
    for (const upstream of instance.upstreams) {
      lines.push(`  upstream  ${upstream.env}=127.0.0.1:${assigned.upstreams[upstream.name] ?? '?'} -> ${upstream.target}`);
    }
  }
  const entries = entryUpstreams(plan);
  if (entries.length > 0) lines.push('', 'Entry points (through the proxy of the instance named):');
  for (const { instance, upstream } of entries) {
    const port = ports.instances.get(instance.key)?.upstreams[upstream.name] ?? 0;
    const how = upstream.protocol === 'http1' || upstream.protocol === 'detect' ? `curl http://127.0.0.1:${port}/` : `127.0.0.1:${port}`;
    lines.push(`  ${upstream.target}  ${how}   (${upstream.protocol ?? 'tcp'}, via ${instance.key})`);
  }
  return lines;
}

/** `path` relative to `cwd` when it lies inside it, else as it is. */
export function shortPath(path: string, cwd: string): string {
  if (path === '') return path;
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') || rel.startsWith('/') ? path : rel;
}
