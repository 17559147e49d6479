// The demo live feed: a WebSocket server that pushes a tick to every client every INTERVAL_MS and echoes what it hears.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { CATALOG_ITEMS } from './catalog-items.js';
import { type DemoEnv, EnvReader, type SettingsResult } from './demo-settings.js';
import { formatHostPort, type HostPort } from './host-port.js';
import { closeHttpServer, listenHttp, sendJson } from './http-helpers.js';
import type { RunningService } from './run-service.js';

export interface FeedSettings {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Time between two ticks to one client. */
  readonly intervalMs: number;
}

/** A message the feed sends: a tick, or the echo of a client's message. */
export type FeedMessage =
  | { readonly type: 'tick'; readonly seq: number; readonly itemId: string; readonly name: string; readonly at: string }
  | { readonly type: 'echo'; readonly data: string };

export interface FeedServer extends RunningService {
  readonly address: HostPort;
  /** Clients connected now. */
  clientCount(): number;
}

/** A client gets this long to answer the close handshake before its socket is cut. */
const CLOSE_GRACE_MS = 500;

/** Echoes are capped so a client cannot make the feed hold large frames. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** PORT (default 8081), HOST (127.0.0.1), INTERVAL_MS (100). */
export function readFeedSettings(env: DemoEnv): SettingsResult<FeedSettings> {
  const read = new EnvReader(env);
  const intervalMs = read.milliseconds('INTERVAL_MS', 100, 60_000);
  return read.result({ host: read.host('HOST', '127.0.0.1'), port: read.port('PORT', 8081), intervalMs: Math.max(intervalMs, 1) });
}

export async function startFeedServer(settings: FeedSettings): Promise<FeedServer> {
  const http = createServer(answerPlainHttp);
  // noServer: the HTTP server's own errors (a busy port) reach listenHttp rather than the WebSocket server.
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  http.on('upgrade', (request, socket, head) => sockets.handleUpgrade(request, socket, head, (client) => serveClient(client, settings.intervalMs)));
  const address = await listenHttp(http, settings.host, settings.port);
  return {
    address,
    summary: `listening on ${formatHostPort(address)} (WebSocket), a tick every ${settings.intervalMs} ms`,
    clientCount: () => sockets.clients.size,
    close: async () => {
      await closeClients(sockets);
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await closeHttpServer(http);
    },
  };
}

function serveClient(socket: WebSocket, intervalMs: number): void {
  let seq = 0;
  const send = (message: FeedMessage) => socket.send(JSON.stringify(message));
  const timer = setInterval(() => {
    seq += 1;
    const item = CATALOG_ITEMS[seq % CATALOG_ITEMS.length];
    if (item) send({ type: 'tick', seq, itemId: item.id, name: item.name, at: new Date().toISOString() });
  }, intervalMs);
  socket.on('message', (data, isBinary) => send({ type: 'echo', data: isBinary ? '<binary>' : String(data) }));
  socket.on('close', () => clearInterval(timer));
  socket.on('error', () => clearInterval(timer));
}

/** Plain HTTP requests: a health check, and a hint for anything else. */
function answerPlainHttp(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/healthz') return sendJson(response, 200, { status: 'ok' });
  sendJson(response, 426, { error: 'the feed speaks WebSocket: connect with ws://<address>/' });
}

/** Says goodbye to every client (1001 going away), cutting those that do not answer in time. */
async function closeClients(sockets: WebSocketServer): Promise<void> {
  const clients = [...sockets.clients];
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          const cut = setTimeout(() => client.terminate(), CLOSE_GRACE_MS);
          client.once('close', () => {
            clearTimeout(cut);
            resolve();
          });
          client.close(1001, 'the feed is stopping');
        }),
    ),
  );
}
