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
  type Subscription,
} from '@weft/core';
import { injectable } from 'inversify';

interface Watch {
  readonly listener: EndpointUpdateListener;
  open: boolean;
}

interface Delivery {
  readonly watches: readonly Watch[];
  readonly update: EndpointUpdate;
}

/**
 * Services are keyed by formatAuthority(target). A watch gets its first message synchronously, then every change
 * in order. A listener that throws does not stop delivery to the others; once all are served, the call that made
 * the change (setEndpoints, deleteService) throws the listener's error, so the test sees it.
 */
@injectable()
export class InMemoryDiscoverEndpoints implements DiscoverEndpoints {
  private readonly services = new Map<string, EndpointSet>();
  private readonly watches = new Map<string, Set<Watch>>();
  private readonly queue: Delivery[] = [];
  private delivering = false;

  watch(target: Authority, listener: EndpointUpdateListener): Subscription {
    const key = formatAuthority(target);
    const current = this.services.get(key);
    listener(current ? { kind: 'reset', endpoints: [...current.values()] } : { kind: 'doesNotExist' });
    const watch: Watch = { listener, open: true };
    const watches = this.watches.get(key) ?? new Set<Watch>();
    this.watches.set(key, watches.add(watch));
    return {
      close: () => {
        watch.open = false;
        watches.delete(watch);
        if (watches.size === 0 && this.watches.get(key) === watches) this.watches.delete(key);
      },
    };
  }

  /** Makes `endpoints` the endpoints of `target`, creating the service if it is new. */
  setEndpoints(target: Authority, endpoints: readonly Endpoint[]): void {
    const key = formatAuthority(target);
    const before = this.services.get(key);
    const after = endpointSetOf(endpoints);
    this.services.set(key, after);
    const updates = before ? diffEndpoints(before, after) : [{ kind: 'reset', endpoints: [...after.values()] } as const];
    this.publish(key, updates);
  }

  /** Removes the service; its watchers get `doesNotExist`. Deleting an unknown service changes nothing. */
  deleteService(target: Authority): void {
    const key = formatAuthority(target);
    if (this.services.delete(key)) this.publish(key, [{ kind: 'doesNotExist' }]);
  }

  /** How many open watches `target` has. */
  watcherCount(target: Authority): number {
    return this.watches.get(formatAuthority(target))?.size ?? 0;
  }

  // Changes made by a listener while updates are being delivered are queued behind them, so every watcher sees
  // the updates in the order the changes happened.
  private publish(key: string, updates: readonly EndpointUpdate[]): void {
    const watches = [...(this.watches.get(key) ?? [])];
    for (const update of updates) this.queue.push({ watches, update });
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let delivery = this.queue.shift(); delivery; delivery = this.queue.shift()) {
        for (const watch of delivery.watches) {
          if (!watch.open) continue;
          try {
            watch.listener(delivery.update);
          } catch (error) {
            errors.push(error);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} endpoint listeners of ${key} threw`);
  }
}
