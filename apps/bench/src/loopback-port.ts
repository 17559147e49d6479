// Loopback ports for the run: a free one to listen on, and waiting until a started server accepts connections.
import { connect, createServer } from 'node:net';
import type { SupervisedProcess } from './process-supervisor.js';

export const LOOPBACK = '127.0.0.1';

/** A port on 127.0.0.1 that nothing listens on right now (the kernel picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves when `port` accepts a connection; rejects with the child's output if it dies first or `timeoutMs` passes. */
export async function waitForLoopbackPort(port: number, child: SupervisedProcess, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!child.isRunning) throw new Error(`${child.label} exited before listening on ${LOOPBACK}:${port}: ${describeOutput(child)}`);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${child.label} did not listen on ${LOOPBACK}:${port} within ${timeoutMs} ms: ${describeOutput(child)}`);
}

function describeOutput(child: SupervisedProcess): string {
  const { stdout, stderr } = child.output;
  const text = `${stderr}\n${stdout}`.trim();
  return text === '' ? `(no output; command: ${child.commandLine})` : text.slice(-2_000);
}
