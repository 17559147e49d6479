// The web front end's gRPC client for the catalog: GetItem and ListItems with a deadline, as promises.
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { catalogServiceDefinition, type ItemMessage } from './catalog-proto.js';
import { formatHostPort, type HostPort } from './host-port.js';

export class CatalogClient {
  private readonly client: Client;
  private readonly methods = catalogServiceDefinition();

  constructor(address: HostPort) {
    // No client-side retries: the demo leaves retrying to the mesh, so the mesh's retry metrics tell the whole story.
    this.client = new Client(formatHostPort(address), credentials.createInsecure(), { 'grpc.enable_retries': 0 });
  }

  /** One item; rejects with the call's ServiceError (NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED...). */
  getItem(id: string, timeoutMs: number): Promise<ItemMessage> {
    const method = this.methods.GetItem;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { id },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, item) => (error || !item ? reject(error ?? new Error('GetItem answered nothing')) : resolve(item)),
      );
    });
  }

  /** Every item of the stream; rejects with the ServiceError that ended it early. */
  listItems(timeoutMs: number): Promise<ItemMessage[]> {
    const method = this.methods.ListItems;
    return new Promise((resolve, reject) => {
      const items: ItemMessage[] = [];
      const call = this.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { limit: 0 }, new Metadata(), {
        deadline: Date.now() + timeoutMs,
      });
      call.on('data', (item: ItemMessage) => items.push(item));
      call.on('error', reject);
      call.on('end', () => resolve(items));
    });
  }

  close(): void {
    this.client.close();
  }
}

/** True for the errors grpc-js calls fail with, which carry a status code. */
export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}
