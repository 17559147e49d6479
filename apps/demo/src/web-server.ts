// The demo front end: HTTP/1.1 JSON API over the catalog (gRPC) and the feed (WebSocket), plus a small home page.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import { CatalogClient, isServiceError } from './catalog-client.js';
import { type DemoEnv, EnvReader, type SettingsResult } from './demo-settings.js';
import { FeedReadError, readFeedMessages } from './feed-client.js';
import { formatHostPort, type HostPort } from './host-port.js';
import { closeHttpServer, listenHttp, sendJson } from './http-helpers.js';
import type { RunningService } from './run-service.js';
import { WEB_PAGE_HTML } from './web-page.js';

export interface WebSettings {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly catalog: HostPort;
  readonly feed: HostPort;
  /** The web's own deadline for one upstream call; the mesh's route timeouts are meant to be shorter. */
  readonly upstreamTimeoutMs: number;
}

export interface WebServer extends RunningService {
  readonly address: HostPort;
}

/** /api/feed?n= takes 1 to this many messages; the default is 3. */
export const MAX_FEED_MESSAGES = 50;
const DEFAULT_FEED_MESSAGES = 3;

/** Item ids are short words; anything else is refused before it reaches the catalog. */
const ITEM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** PORT (default 8080), HOST (127.0.0.1), CATALOG_ADDR and FEED_ADDR (host:port, required), UPSTREAM_TIMEOUT_MS (5000). */
export function readWebSettings(env: DemoEnv): SettingsResult<WebSettings> {
  const read = new EnvReader(env);
  return read.result({
    host: read.host('HOST', '127.0.0.1'),
    port: read.port('PORT', 8080),
    catalog: read.address('CATALOG_ADDR'),
    feed: read.address('FEED_ADDR'),
    upstreamTimeoutMs: Math.max(read.milliseconds('UPSTREAM_TIMEOUT_MS', 5_000, 600_000), 1),
  });
}

/** What one request gets: a status and a JSON body, or the home page. */
type Answer = { readonly status: number; readonly body: unknown } | { readonly html: string };

export async function startWebServer(settings: WebSettings): Promise<WebServer> {
  const catalog = new CatalogClient(settings.catalog);
  const http = createServer((request, response) => {
    answer(request, settings, catalog).then(
      (result) => reply(response, result),
      (error: unknown) => reply(response, { status: 500, body: { error: 'internal error', detail: (error as Error).message } }),
    );
  });
  let address: HostPort;
  try {
    address = await listenHttp(http, settings.host, settings.port);
  } catch (error) {
    catalog.close();
    throw error;
  }
  return {
    address,
    summary: `listening on ${formatHostPort(address)} (HTTP/1.1), catalog at ${formatHostPort(settings.catalog)}, feed at ${formatHostPort(settings.feed)}`,
    close: async () => {
      await closeHttpServer(http);
      catalog.close();
    },
  };
}

async function answer(request: IncomingMessage, settings: WebSettings, catalog: CatalogClient): Promise<Answer> {
  const url = new URL(request.url ?? '/', 'http://web.invalid');
  if (request.method !== 'GET') return { status: 405, body: { error: `${request.method ?? 'this method'} is not served; use GET` } };
  const path = url.pathname;
  if (path === '/') return { html: WEB_PAGE_HTML };
  if (path === '/healthz') return { status: 200, body: { status: 'ok' } };
  if (path === '/api/items') return listItems(catalog, settings.upstreamTimeoutMs);
  if (path.startsWith('/api/items/')) return getItem(decodePathPart(path.slice('/api/items/'.length)), catalog, settings.upstreamTimeoutMs);
  if (path === '/api/feed') return readFeed(url.searchParams.get('n'), settings);
  return { status: 404, body: { error: `nothing at ${path}; try /api/items, /api/items/1 or /api/feed` } };
}

async function listItems(catalog: CatalogClient, timeoutMs: number): Promise<Answer> {
  try {
    const items = await catalog.listItems(timeoutMs);
    const servedBy = items[0]?.servedBy ?? '';
    return { status: 200, body: { items: items.map(({ servedBy: _, ...item }) => item), servedBy } };
  } catch (error) {
    return catalogFailure(error);
  }
}

async function getItem(id: string, catalog: CatalogClient, timeoutMs: number): Promise<Answer> {
  if (!ITEM_ID.test(id)) return { status: 400, body: { error: `item id ${JSON.stringify(id)} is not a word of letters, digits, - or _` } };
  try {
    return { status: 200, body: await catalog.getItem(id, timeoutMs) };
  } catch (error) {
    return catalogFailure(error);
  }
}

async function readFeed(n: string | null, settings: WebSettings): Promise<Answer> {
  const count = n === null ? DEFAULT_FEED_MESSAGES : Number(n);
  if (!Number.isInteger(count) || count < 1 || count > MAX_FEED_MESSAGES) {
    return { status: 400, body: { error: `n=${n ?? ''} is not a count from 1 to ${MAX_FEED_MESSAGES}` } };
  }
  try {
    return { status: 200, body: { messages: await readFeedMessages(settings.feed, count, settings.upstreamTimeoutMs) } };
  } catch (error) {
    if (error instanceof FeedReadError) {
      return { status: error.reason === 'timeout' ? 504 : 502, body: { error: `feed ${error.reason}`, detail: error.message } };
    }
    throw error;
  }
}

/** A gRPC status as the front end's answer: NOT_FOUND is 404, a deadline 504, anything else from upstream 502. */
function catalogFailure(error: unknown): Answer {
  if (!isServiceError(error)) return { status: 502, body: { error: 'catalog failed', detail: (error as Error).message } };
  const code = grpcStatus[error.code] ?? String(error.code);
  const detail = error.details;
  if (error.code === grpcStatus.NOT_FOUND) return { status: 404, body: { error: 'no such item', detail } };
  if (error.code === grpcStatus.DEADLINE_EXCEEDED) return { status: 504, body: { error: 'catalog timed out', code, detail } };
  return { status: 502, body: { error: 'catalog failed', code, detail } };
}

/** The decoded path segment; badly encoded text is kept as written, and the id check refuses it. */
function decodePathPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function reply(response: ServerResponse, result: Answer): void {
  if ('html' in result) {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(result.html) });
    response.end(result.html);
    return;
  }
  if (result.status === 405) response.setHeader('allow', 'GET');
  sendJson(response, result.status, result.body);
}
