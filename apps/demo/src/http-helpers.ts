// Small HTTP pieces the demo servers share: listen on a port, answer JSON, stop without waiting for idle clients.
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from './host-port.js';

/** Listens on host:port (0 for any free port) and returns the address actually bound. */
export function listenHttp(server: Server, host: string, port: number): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      resolve({ host, port: bound.port });
    });
  });
}

/** Stops accepting and closes idle keep-alive connections; requests in flight get `graceMs` to finish. */
export function closeHttpServer(server: Server, graceMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
