// weft-control's admin server: Prometheus metrics, liveness and readiness probes over plain HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What /metrics serves: Prometheus text exposition (e.g. ControlMetrics). */
export interface AdminMetricsSource {
  readonly contentType: string;
  metricsText(): Promise<string>;
}

export interface AdminServerOptions {
  /** Served on /metrics; without it /metrics answers 404. */
  readonly metrics?: AdminMetricsSource;
}

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
 * every readiness check is met, /metrics the metrics text.
 */
export async function startAdminServer(host: string, port: number, options: AdminServerOptions = {}): Promise<AdminServer> {
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
    } else if (path === '/metrics' && options.metrics !== undefined) {
      const metrics = options.metrics;
      metrics.metricsText().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
      );
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
