// Port assignment for `weft up`: every loopback port the file leaves open gets a free one, never one the file fixes.
import type { UpInstance, UpPlan } from './mesh-plan.js';

export interface ProxyPorts {
  /** Where peer proxies (and unmeshed clients) reach the instance. */
  readonly inbound: number;
  readonly admin: number;
  readonly tap: number;
  readonly outbound: number;
}

export interface InstancePorts {
  readonly app: number;
  /** Absent when no proxy runs beside the app. */
  readonly proxy?: ProxyPorts;
  /** The local port of each upstream, by its name. */
  readonly upstreams: Readonly<Record<string, number>>;
}

export interface ControlPorts {
  readonly grpc: number;
  readonly admin: number;
}

export interface PortAssignment {
  readonly control: ControlPorts;
  /** By instance key. */
  readonly instances: ReadonlyMap<string, InstancePorts>;
}

/** A port the mesh file (or the command line) fixes, and what it is for, for "port in use" messages. */
export interface FixedPort {
  readonly port: number;
  readonly what: string;
}

/** The ports fixed before any is assigned: apps, proxy inbound and upstream ports from the file, and --grpc-port. */
export function fixedPorts(plan: UpPlan, grpcPort?: number): FixedPort[] {
  const fixed: FixedPort[] = grpcPort === undefined ? [] : [{ port: grpcPort, what: 'the control plane (gRPC)' }];
  for (const instance of plan.instances) {
    for (const port of instance.appPorts) fixed.push({ port, what: `the app of ${instance.key}` });
    if (instance.proxied && instance.proxyInboundPort !== undefined) {
      fixed.push({ port: instance.proxyInboundPort, what: `the proxy of ${instance.key} (inbound)` });
    }
    for (const upstream of instance.upstreams) {
      if (upstream.localPort !== undefined) fixed.push({ port: upstream.localPort, what: `upstream ${upstream.target} of ${instance.key}` });
    }
  }
  return fixed;
}

/** How many ports `assignPorts` takes from its candidates at most. */
export function portsToAssign(plan: UpPlan, grpcPort?: number): number {
  let count = grpcPort === undefined ? 2 : 1;
  for (const instance of plan.instances) {
    if (instance.proxied) count += instance.proxyInboundPort === undefined ? 4 : 3;
    count += instance.upstreams.filter((upstream) => upstream.localPort === undefined).length;
  }
  return count;
}

export class OutOfPortsError extends Error {
  override readonly name = 'OutOfPortsError';
}

/**
 * Gives each open port the next candidate that is neither fixed nor already given. `candidates` are ports found free
 * (the caller binds port 0 to find them); a candidate equal to a fixed port is skipped.
 * @throws OutOfPortsError when the candidates run out (the caller passes too few: a programming error).
 */
export function assignPorts(plan: UpPlan, candidates: Iterable<number>, grpcPort?: number): PortAssignment {
  const taken = new Set(fixedPorts(plan, grpcPort).map((fixed) => fixed.port));
  const iterator = candidates[Symbol.iterator]();
  const next = (): number => {
    for (let item = iterator.next(); !item.done; item = iterator.next()) {
      if (taken.has(item.value)) continue;
      taken.add(item.value);
      return item.value;
    }
    throw new OutOfPortsError(`not enough free ports to assign; give at least ${portsToAssign(plan, grpcPort)} beyond the fixed ones`);
  };
  const control = { grpc: grpcPort ?? next(), admin: next() };
  const instances = new Map<string, InstancePorts>();
  for (const instance of plan.instances) instances.set(instance.key, instancePorts(instance, next));
  return { control, instances };
}

function instancePorts(instance: UpInstance, next: () => number): InstancePorts {
  const upstreams: Record<string, number> = {};
  for (const upstream of instance.upstreams) upstreams[upstream.name] = upstream.localPort ?? next();
  if (!instance.proxied) return { app: instance.appPort, upstreams };
  const proxy = { inbound: instance.proxyInboundPort ?? next(), admin: next(), tap: next(), outbound: next() };
  return { app: instance.appPort, proxy, upstreams };
}
