// Finding loopback ports: free ones below the kernel's ephemeral range, and whether a given one is free.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** The ports the kernel hands out by itself: to binds of port 0 and as the source port of outgoing connections. */
export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Lowest port picked: clear of the well-known and registered ports most local services use. */
const PICK_FLOOR = 10_000;
/** Below this many candidate ports, picking is left to the kernel. */
const MIN_CANDIDATES = 1_000;
/** Random candidates tried per port wanted before the kernel picks the rest. */
const TRIES_PER_PORT = 20;

/** The kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), or undefined where it cannot be read. */
export function ephemeralPortRange(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): PortRange | undefined {
  try {
    const [low = NaN, high = NaN] = read().trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) && low > 0 && high >= low ? { low, high } : undefined;
  } catch {
    return undefined;
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function tryListen(port: number): Promise<Server | undefined> {
  try {
    return await listen(port);
  } catch {
    return undefined;
  }
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/**
 * `count` distinct ports on 127.0.0.1 that were free a moment ago (all held at once, so none repeats). They are
 * picked below the kernel's ephemeral range where it leaves room: a port the kernel picked could otherwise become
 * the source port of some outgoing connection, or another program's port 0, before the process it was meant for
 * binds it. `range` (the kernel's, read from /proc, by default) undefined: the kernel picks.
 */
export async function freeLoopbackPorts(count: number, { range }: { readonly range: PortRange | undefined } = { range: ephemeralPortRange() }): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const top = range === undefined ? 0 : range.low - 1;
    if (top - PICK_FLOOR + 1 >= MIN_CANDIDATES) {
      const tried = new Set<number>();
      for (let attempt = 0; attempt < count * TRIES_PER_PORT && servers.length < count; attempt++) {
        const port = PICK_FLOOR + Math.floor(Math.random() * (top - PICK_FLOOR + 1));
        if (tried.has(port)) continue;
        tried.add(port);
        const server = await tryListen(port);
        if (server !== undefined) servers.push(server);
      }
    }
    while (servers.length < count) servers.push(await listen(0));
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** Whether something listens on 127.0.0.1:<port> (or the port cannot be bound for another reason). */
export async function loopbackPortInUse(port: number): Promise<boolean> {
  try {
    await close(await listen(port));
    return false;
  } catch {
    return true;
  }
}
