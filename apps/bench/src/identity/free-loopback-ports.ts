// freeLoopbackPorts: several free loopback ports at once, distinct from each other and from ports already in use by the run.
import { freeLoopbackPort } from '../loopback-port.js';

/** `count` ports nothing listens on now, none of them in `taken` (which is extended with them). */
export async function freeLoopbackPorts(count: number, taken: Set<number> = new Set()): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freeLoopbackPort();
    if (!taken.has(port)) ports.push(port);
    taken.add(port);
  }
  return ports;
}
