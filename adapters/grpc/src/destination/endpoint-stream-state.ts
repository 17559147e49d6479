// EndpointStreamState: what the receiving end of an endpoint stream holds, and the fewest updates that change it.
import {
  applyEndpointUpdate,
  diffEndpoints,
  type Endpoint,
  type EndpointSet,
  endpointSetOf,
  type EndpointUpdate,
  formatSocketAddress,
  sameEndpoint,
} from '@weft/core';

/** Nothing yet, "the name is unknown", or the set of endpoints. */
export type HeldEndpoints = undefined | 'doesNotExist' | EndpointSet;

/**
 * Follows the rules of the Destination.Get stream for one receiver (a proxy on a server stream, or the listeners of a
 * client): the first update is always `reset` or `doesNotExist`; later ones change only what really changes, so
 * nothing is ever sent twice. `next` turns any update into those minimal updates, which makes it the place where a
 * new stream's first `reset` is reconciled against the set held from an earlier stream.
 */
export class EndpointStreamState {
  private held: HeldEndpoints = undefined;

  /** What the receiver holds now. */
  current(): HeldEndpoints {
    return this.held;
  }

  /** The held state as one update (what a receiver that joins now must get first); undefined while nothing is held. */
  snapshot(): EndpointUpdate | undefined {
    if (this.held === undefined) return undefined;
    if (this.held === 'doesNotExist') return { kind: 'doesNotExist' };
    return { kind: 'reset', endpoints: [...this.held.values()] };
  }

  /**
   * Takes in `update` and returns what the receiver must get for it: nothing for a repeat, the difference for a
   * `reset` over a known set (one `remove`, one `add`), `reset` for any set after nothing or `doesNotExist`.
   */
  next(update: EndpointUpdate): EndpointUpdate[] {
    const held = this.held;
    switch (update.kind) {
      case 'doesNotExist':
        this.held = 'doesNotExist';
        return held === 'doesNotExist' ? [] : [update];
      case 'reset':
        return this.replace(endpointSetOf(update.endpoints));
      case 'add':
        if (!isSet(held)) return this.replace(endpointSetOf(update.endpoints));
        return this.apply(held, { kind: 'add', endpoints: changedOnly(held, update.endpoints) });
      case 'remove':
        if (!isSet(held)) return [];
        return this.apply(held, {
          kind: 'remove',
          addresses: update.addresses.filter((address) => held.has(formatSocketAddress(address))),
        });
    }
  }

  private replace(after: EndpointSet): EndpointUpdate[] {
    const before = this.held;
    this.held = after;
    return isSet(before) ? diffEndpoints(before, after) : [{ kind: 'reset', endpoints: [...after.values()] }];
  }

  /** Applies an add or remove already cut down to what changes; an empty one changes nothing and is not sent. */
  private apply(held: EndpointSet, update: EndpointUpdate & { kind: 'add' | 'remove' }): EndpointUpdate[] {
    const size = update.kind === 'add' ? update.endpoints.length : update.addresses.length;
    if (size === 0) return [];
    this.held = applyEndpointUpdate(held, update);
    return [update];
  }
}

function isSet(held: HeldEndpoints): held is EndpointSet {
  return held !== undefined && held !== 'doesNotExist';
}

// The endpoints of an add that are new or differ from the held ones; a later duplicate in the same add wins.
function changedOnly(held: EndpointSet, endpoints: readonly Endpoint[]): Endpoint[] {
  return [...endpointSetOf(endpoints).values()].filter((endpoint) => {
    const old = held.get(formatSocketAddress(endpoint.address));
    return old === undefined || !sameEndpoint(old, endpoint);
  });
}
