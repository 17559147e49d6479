// Finding loopback ports: free ones the kernel picks, and whether a given one is free.
import { createServer, type Server } from 'node:net';

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

/** `count` distinct ports on 127.0.0.1 that were free a moment ago (all held at once, so none repeats). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen(0));
    return servers.map((server) => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : 0;
    });
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
