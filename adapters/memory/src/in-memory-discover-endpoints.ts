// InMemoryDiscoverEndpoints: endpoint discovery from a map that tests change, streaming the differences to watchers.
import {
  type Authority,
  diffEndpoints,
  type DiscoverEndpoints,
  type Endpoint,
  type EndpointSet,
  endpointSetOf,
  type EndpointUpdate,
  type EndpointUpdateListener,
  formatAuthority,
  KeyedPublisher,
  type Subscription,
} from '@weft/core';
import { injectable } from 'inversify';

/**
 * Services are keyed by formatAuthority(target). A watch gets its first message synchronously, then every change
 * in order. A listener that throws does not stop delivery to the others; once all are served, the call that made
 * the change (setEndpoints, deleteService) throws the listener's error, so the test sees it.
 */
@injectable()
export class InMemoryDiscoverEndpoints implements DiscoverEndpoints {
  private readonly services = new Map<string, EndpointSet>();
  private readonly publisher = new KeyedPublisher<string, EndpointUpdate>('endpoint');

  watch(target: Authority, listener: EndpointUpdateListener): Subscription {
    const key = formatAuthority(target);
    const current = this.services.get(key);
    const first: EndpointUpdate = current
      ? { kind: 'reset', endpoints: [...current.values()] }
      : { kind: 'doesNotExist' };
    return this.publisher.subscribe(key, first, listener);
  }

  /** Makes `endpoints` the endpoints of `target`, creating the service if it is new. */
  setEndpoints(target: Authority, endpoints: readonly Endpoint[]): void {
    const key = formatAuthority(target);
    const before = this.services.get(key);
    const after = endpointSetOf(endpoints);
    this.services.set(key, after);
    const updates = before ? diffEndpoints(before, after) : [{ kind: 'reset', endpoints: [...after.values()] } as const];
    this.publisher.publish(key, ...updates);
  }

  /** Removes the service; its watchers get `doesNotExist`. Deleting an unknown service changes nothing. */
  deleteService(target: Authority): void {
    const key = formatAuthority(target);
    if (this.services.delete(key)) this.publisher.publish(key, { kind: 'doesNotExist' });
  }

  /** How many open watches `target` has. */
  watcherCount(target: Authority): number {
    return this.publisher.watcherCount(formatAuthority(target));
  }
}
