// The catalog's wire contract, loaded at run time from apps/demo/proto/catalog.proto, with its message shapes.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** The .proto file: ../proto from this module, which is the same folder from src/ (tests) and from dist/ (built). */
export const CATALOG_PROTO_FILE = fileURLToPath(new URL('../proto/catalog.proto', import.meta.url));

/** The fully qualified service name; gRPC paths are `/demo.catalog.v1.Catalog/<Method>`. */
export const CATALOG_SERVICE_NAME = 'demo.catalog.v1.Catalog';

export interface GetItemRequest {
  readonly id: string;
}

export interface ListItemsRequest {
  readonly limit: number;
}

export interface ItemMessage {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
  readonly stock: number;
  readonly servedBy: string;
}

/** The catalog service's methods, typed by their messages. */
export interface CatalogServiceDefinition {
  readonly GetItem: MethodDefinition<GetItemRequest, ItemMessage>;
  readonly ListItems: MethodDefinition<ListItemsRequest, ItemMessage>;
}

let loaded: CatalogServiceDefinition | undefined;

/** Loads the .proto once per process; throws an Error naming the file when it is missing or lacks the service. */
export function catalogServiceDefinition(): CatalogServiceDefinition {
  if (loaded) return loaded;
  if (!existsSync(CATALOG_PROTO_FILE)) {
    throw new Error(`the catalog contract ${CATALOG_PROTO_FILE} is missing; it ships with @weft/demo in apps/demo/proto/`);
  }
  // camelCase fields (price_cents -> priceCents), and every field present with its default when unset.
  const definition = loadSync(CATALOG_PROTO_FILE, { keepCase: false, defaults: true, longs: Number, enums: String });
  const service = definition[CATALOG_SERVICE_NAME] as Partial<Record<keyof CatalogServiceDefinition, unknown>> | undefined;
  if (!service?.GetItem || !service.ListItems) {
    throw new Error(`${CATALOG_PROTO_FILE} does not define ${CATALOG_SERVICE_NAME} with GetItem and ListItems`);
  }
  loaded = service as unknown as CatalogServiceDefinition;
  return loaded;
}

/** The same definition in the form grpc-js servers take. */
export function catalogServerDefinition(): ServiceDefinition {
  return catalogServiceDefinition() as unknown as ServiceDefinition;
}
