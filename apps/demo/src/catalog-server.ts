// The demo catalog: a gRPC server for GetItem and ListItems that can be made slow (DELAY_MS) or flaky (FAIL_RATE).
import { type sendUnaryData, Server, type ServerUnaryCall, type ServerWritableStream, ServerCredentials, status } from '@grpc/grpc-js';
import { CATALOG_ITEMS, type CatalogItem } from './catalog-items.js';
import { CATALOG_SERVICE_NAME, catalogServerDefinition, type GetItemRequest, type ItemMessage, type ListItemsRequest } from './catalog-proto.js';
import { type DemoEnv, EnvReader, type SettingsResult } from './demo-settings.js';
import { formatHostPort, type HostPort } from './host-port.js';
import type { RunningService } from './run-service.js';

export interface CatalogSettings {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Named in every answer's servedBy; empty means `catalog@<address>`. */
  readonly instance: string;
  /** Added to every call before it is answered. */
  readonly delayMs: number;
  /** The share of calls refused with UNAVAILABLE, from 0 to 1. */
  readonly failRate: number;
}

export interface CatalogServer extends RunningService {
  readonly address: HostPort;
  readonly instance: string;
}

/** Longest DELAY_MS: a minute is slow enough for any demo. */
const MAX_DELAY_MS = 60_000;

/** How long a stop waits for calls in flight before cutting them. */
const DRAIN_MS = 1_000;

/** PORT (default 9090), HOST (127.0.0.1), INSTANCE_NAME, DELAY_MS (0), FAIL_RATE (0). */
export function readCatalogSettings(env: DemoEnv): SettingsResult<CatalogSettings> {
  const read = new EnvReader(env);
  return read.result({
    host: read.host('HOST', '127.0.0.1'),
    port: read.port('PORT', 9090),
    instance: read.text('INSTANCE_NAME', ''),
    delayMs: read.milliseconds('DELAY_MS', 0, MAX_DELAY_MS),
    failRate: read.fraction('FAIL_RATE', 0),
  });
}

/** Starts the catalog; `random` (default Math.random) decides which calls FAIL_RATE refuses. */
export async function startCatalogServer(settings: CatalogSettings, random: () => number = Math.random): Promise<CatalogServer> {
  const server = new Server();
  const pending = new Set<() => void>();
  let instance = settings.instance;

  /** Waits DELAY_MS, then answers unless the call was cancelled or the server is stopping. */
  const afterDelay = (cancelled: () => boolean, answer: () => void, refuse: (message: string) => void) => {
    const proceed = () => {
      if (cancelled()) return;
      if (random() < settings.failRate) refuse(`catalog instance ${instance} dropped this call (FAIL_RATE ${settings.failRate})`);
      else answer();
    };
    if (settings.delayMs === 0) return proceed();
    const timer = setTimeout(() => {
      pending.delete(stop);
      proceed();
    }, settings.delayMs);
    const stop = () => {
      clearTimeout(timer);
      refuse(`catalog instance ${instance} is stopping`);
    };
    pending.add(stop);
  };

  server.addService(catalogServerDefinition(), {
    GetItem: (call: ServerUnaryCall<GetItemRequest, ItemMessage>, callback: sendUnaryData<ItemMessage>) => {
      afterDelay(
        () => call.cancelled,
        () => {
          const item = CATALOG_ITEMS.find((candidate) => candidate.id === call.request.id);
          if (item) callback(null, toMessage(item, instance));
          else callback({ code: status.NOT_FOUND, details: `there is no item ${JSON.stringify(call.request.id)}; ids are 1 to ${CATALOG_ITEMS.length}` });
        },
        (details) => callback({ code: status.UNAVAILABLE, details }),
      );
    },
    ListItems: (call: ServerWritableStream<ListItemsRequest, ItemMessage>) => {
      afterDelay(
        () => call.cancelled,
        () => {
          const limit = call.request.limit > 0 ? call.request.limit : CATALOG_ITEMS.length;
          for (const item of CATALOG_ITEMS.slice(0, limit)) call.write(toMessage(item, instance));
          call.end();
        },
        // grpc-js sends an 'error' event on a server stream as the call's status.
        (details) => call.emit('error', { code: status.UNAVAILABLE, details }),
      );
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatHostPort({ host: settings.host, port: settings.port }), ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const address = { host: settings.host, port };
  if (instance === '') instance = `catalog@${formatHostPort(address)}`;
  return {
    address,
    instance,
    summary: `listening on ${formatHostPort(address)} (gRPC ${CATALOG_SERVICE_NAME}), instance ${instance}, DELAY_MS=${settings.delayMs}, FAIL_RATE=${settings.failRate}`,
    close: () => {
      for (const stop of pending) stop();
      pending.clear();
      return shutDown(server);
    },
  };
}

function toMessage(item: CatalogItem, instance: string): ItemMessage {
  return { ...item, servedBy: instance };
}

/** Lets calls in flight finish for up to DRAIN_MS, then cuts them. */
function shutDown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), DRAIN_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
