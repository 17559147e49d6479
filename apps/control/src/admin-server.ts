// weft-control's admin server: liveness and readiness probes over plain HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AdminServer {
  readonly address: AddressInfo;
  setReady(ready: boolean): void;
  /**
   * Adds a condition /ready also needs, asked on each probe: `check` returns undefined when met, else what is
   * missing (e.g. "no issuer loaded"), which the 503 body names.
   */
  addReadinessCheck(check: () => string | undefined): void;
  close(): Promise<void>;
}

/**
 * Listens on host:port; /live answers 200 while the process runs, /ready 200 once setReady(true) was called and
 * every readiness check is met.
 */
export async function startAdminServer(host: string, port: number): Promise<AdminServer> {
  let ready = false;
  const checks: (() => string | undefined)[] = [];
  const notReady = (): string | undefined => {
    if (!ready) return 'not ready\n';
    const missing = checks.map((check) => check()).filter((reason) => reason !== undefined);
    return missing.length === 0 ? undefined : `not ready: ${missing.join(', ')}\n`;
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/live') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('live\n');
    } else if (path === '/ready') {
      const missing = notReady();
      res.writeHead(missing === undefined ? 200 : 503, { 'content-type': 'text/plain' }).end(missing ?? 'ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    setReady: (value) => {
      ready = value;
    },
    addReadinessCheck: (check) => {
      checks.push(check);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
