// The proxy's admin server: /metrics, /ready, /live and, when enabled and asked from loopback, POST /shutdown.
import { formatSocketAddress, type SocketAddress } from '@weft/core';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { acceptsGzip } from './accepts-gzip.js';
import { isLoopbackAddress } from './is-loopback-address.js';

export const PROXY_ADMIN_DEFAULT_ADDRESS: SocketAddress = { ip: '127.0.0.1', port: 4291 };

/** The metrics exposition, e.g. Prometheus text with "text/plain; version=0.0.4; charset=utf-8". */
export interface MetricsText {
  readonly contentType: string;
  readonly body: string;
}

/** Limits of the admin server's HTTP/1 parser and sockets; the defaults suit probes and scrapes. */
export interface ProxyAdminLimits {
  /** Time to receive the request headers. */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request; bounds any body a client sends too. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above. */
  readonly connectionsCheckingIntervalMs: number;
  /** More headers than this gets 431 from Node's parser (Node 24; older versions cut or answer 400). */
  readonly maxHeadersCount: number;
}

export const PROXY_ADMIN_LIMITS: ProxyAdminLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  maxHeadersCount: 100,
};

const maxHeaderSize = 16 * 1024;

export type ProxyAdminEvent =
  | { readonly event: 'admin-metrics-failed'; readonly error: string }
  | { readonly event: 'admin-request-failed'; readonly error: string }
  | { readonly event: 'admin-request-refused'; readonly path: string; readonly peer: string }
  | { readonly event: 'admin-shutdown-requested'; readonly peer: string }
  | { readonly event: 'admin-shutdown-failed'; readonly error: string };

export interface ProxyAdminServerOptions {
  /** Where to listen; 127.0.0.1:4291 when absent. */
  readonly address?: SocketAddress;
  /** Renders the metrics for each scrape. */
  readonly metrics: () => Promise<MetricsText>;
  /** /ready answers 200 while this says ready, else 503. */
  readonly readiness: { isReady(): boolean };
  /** POST /shutdown; absent or not enabled, the route does not exist (404). */
  readonly shutdownEndpoint?: {
    readonly enabled: boolean;
    /** Starts the graceful shutdown; called on each accepted request, so it must be idempotent. */
    readonly onShutdown: () => unknown;
  };
  /** Decides which peers are local; isLoopbackAddress unless a test passes its own. */
  readonly isLoopback?: (ip: string) => boolean;
  readonly limits?: Partial<ProxyAdminLimits>;
  readonly log?: (event: ProxyAdminEvent) => void;
}

export interface ProxyAdminServer {
  readonly address: AddressInfo;
  /** Stops listening and closes every connection at once. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

interface Route {
  readonly methods: readonly string[];
  /** Only loopback peers may use it; others get 403. */
  readonly localOnly: boolean;
  readonly handle: Handler;
}

const gzipAsync = promisify(gzip);
const textPlain = 'text/plain; charset=utf-8';
const forbidden = 'Requests are only permitted from localhost.\n';

/** Listens on the given address (127.0.0.1:4291 by default) and resolves once it accepts connections. */
export async function startProxyAdminServer(options: ProxyAdminServerOptions): Promise<ProxyAdminServer> {
  const address = options.address ?? PROXY_ADMIN_DEFAULT_ADDRESS;
  const log = options.log ?? (() => undefined);
  const admin: AdminContext = {
    routes: adminRoutes(options, log),
    isLoopback: options.isLoopback ?? isLoopbackAddress,
    log,
  };
  const limits = { ...PROXY_ADMIN_LIMITS, ...options.limits };
  const server = createServer(
    {
      maxHeaderSize,
      insecureHTTPParser: false,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    },
    (req, res) => {
      dispatch(admin, req, res).catch((error: unknown) => failRequest(admin, res, error));
    },
  );
  server.maxHeadersCount = limits.maxHeadersCount;
  server.maxRequestsPerSocket = 1_000;
  server.timeout = 0;
  await listen(server, address);
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface AdminContext {
  readonly routes: ReadonlyMap<string, Route>;
  readonly isLoopback: (ip: string) => boolean;
  readonly log: (event: ProxyAdminEvent) => void;
}

function adminRoutes(options: ProxyAdminServerOptions, log: (event: ProxyAdminEvent) => void): ReadonlyMap<string, Route> {
  const probe = ['GET', 'HEAD'];
  const routes = new Map<string, Route>([
    ['/metrics', { methods: probe, localOnly: false, handle: (req, res) => serveMetrics(options.metrics, log, req, res) }],
    ['/ready', { methods: probe, localOnly: false, handle: (_req, res) => serveReady(options.readiness, res) }],
    ['/live', { methods: probe, localOnly: false, handle: (_req, res) => sendText(res, 200, 'live\n') }],
  ]);
  const shutdown = options.shutdownEndpoint;
  if (shutdown?.enabled) {
    routes.set('/shutdown', { methods: ['POST'], localOnly: true, handle: (req, res) => serveShutdown(shutdown.onShutdown, log, req, res) });
  }
  return routes;
}

async function dispatch(admin: AdminContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // No route reads a body: close after answering rather than read an unbounded one to keep the connection.
  if (hasBody(req)) res.setHeader('connection', 'close');
  const path = requestPath(req.url);
  const route = path === undefined ? undefined : admin.routes.get(path);
  const peer = req.socket.remoteAddress ?? '';
  if (path === undefined) {
    sendText(res, 400, 'bad request target\n', { connection: 'close' });
  } else if (route === undefined) {
    sendText(res, 404, 'not found\n');
  } else if (route.localOnly && !admin.isLoopback(peer)) {
    admin.log({ event: 'admin-request-refused', path, peer });
    sendText(res, 403, forbidden);
  } else if (!route.methods.includes(req.method ?? '')) {
    sendText(res, 405, 'method not allowed\n', { allow: route.methods.join(', ') });
  } else {
    await route.handle(req, res);
  }
}

// A handler that failed after starting its answer cannot send a 500 any more; the client sees a cut response.
function failRequest(admin: AdminContext, res: ServerResponse, error: unknown): void {
  admin.log({ event: 'admin-request-failed', error: messageOf(error) });
  if (res.headersSent) res.destroy();
  else sendText(res, 500, 'internal error\n', { connection: 'close' });
}

// The path of an origin-form or absolute-form target, without its query; undefined when it is neither.
function requestPath(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url, 'http://admin.invalid').pathname;
  } catch {
    return undefined;
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

async function serveMetrics(
  metrics: () => Promise<MetricsText>,
  log: (event: ProxyAdminEvent) => void,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let text: MetricsText;
  try {
    text = await metrics();
  } catch (error) {
    log({ event: 'admin-metrics-failed', error: messageOf(error) });
    sendText(res, 500, 'metrics are not available\n');
    return;
  }
  const body = Buffer.from(text.body, 'utf8');
  const headers = { 'content-type': text.contentType, vary: 'accept-encoding' };
  if (acceptsGzip(req.headers['accept-encoding'])) {
    send(res, 200, await gzipAsync(body), { ...headers, 'content-encoding': 'gzip' });
  } else {
    send(res, 200, body, headers);
  }
}

function serveReady(readiness: { isReady(): boolean }, res: ServerResponse): void {
  if (readiness.isReady()) sendText(res, 200, 'ready\n');
  else sendText(res, 503, 'not ready\n');
}

function serveShutdown(
  onShutdown: () => unknown,
  log: (event: ProxyAdminEvent) => void,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const peer = req.socket.remoteAddress ?? 'unknown';
  log({ event: 'admin-shutdown-requested', peer });
  const failed = (error: unknown): void => log({ event: 'admin-shutdown-failed', error: messageOf(error) });
  try {
    const started = onShutdown();
    if (started instanceof Promise) started.catch(failed);
  } catch (error) {
    failed(error);
    sendText(res, 500, 'shutdown could not start\n');
    return;
  }
  sendText(res, 202, 'shutdown\n');
}

function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  send(res, status, Buffer.from(body, 'utf8'), { 'content-type': textPlain, ...headers });
}

function send(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'content-length': String(body.length), 'cache-control': 'no-store' }).end(body);
}

function listen(server: Server, address: SocketAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new Error(`the proxy admin server cannot listen on ${formatSocketAddress(address)}: ${error.message}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(address.port, address.ip, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
