// EndpointUpdate: the messages of an endpoint watch, and the pure set arithmetic that applies and produces them.
import { formatSocketAddress, type SocketAddress } from './authority.js';
import type { Endpoint } from './endpoint.js';

/*
 * Stream semantics of a watch on one authority (the same rules as the Destination.Get stream):
 * - The first message is always sent, right after the watch starts: `reset` with the current endpoints
 *   (possibly none: the service exists but has no ready endpoints) or `doesNotExist` (the name is unknown;
 *   a client may fall back to DNS for it, which it must not do for a service that exists).
 * - After that come incremental `add` (new endpoints, or new versions of known addresses) and `remove`.
 * - `reset` replaces everything the client held; `doesNotExist` empties it.
 * - A live service never gets `doesNotExist`; only its deletion does, and re-creation then sends `reset`.
 * - A client that reconnects keeps its last state until the first message of the new stream arrives,
 *   so traffic keeps flowing while the control plane is away.
 */
export type EndpointUpdate =
  | { readonly kind: 'add'; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'remove'; readonly addresses: readonly SocketAddress[] }
  | { readonly kind: 'reset'; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'doesNotExist' };

export type EndpointUpdateListener = (update: EndpointUpdate) => void;

/** The endpoints a client currently holds, keyed by formatSocketAddress of their address. */
export type EndpointSet = ReadonlyMap<string, Endpoint>;

/** The set of the given endpoints; a later endpoint with the same address wins. */
export function endpointSetOf(endpoints: readonly Endpoint[]): EndpointSet {
  return new Map(endpoints.map((endpoint) => [formatSocketAddress(endpoint.address), endpoint]));
}

/** The set after one update; the input is not changed. */
export function applyEndpointUpdate(current: EndpointSet, update: EndpointUpdate): EndpointSet {
  switch (update.kind) {
    case 'add': {
      const next = new Map(current);
      for (const endpoint of update.endpoints) next.set(formatSocketAddress(endpoint.address), endpoint);
      return next;
    }
    case 'remove': {
      const next = new Map(current);
      for (const address of update.addresses) next.delete(formatSocketAddress(address));
      return next;
    }
    case 'reset':
      return endpointSetOf(update.endpoints);
    case 'doesNotExist':
      return new Map();
  }
}

/**
 * The incremental updates that turn `before` into `after`: at most one `remove` (addresses that are gone)
 * followed by at most one `add` (new addresses, and known ones whose weight, labels, identity or hint changed).
 * Empty when the sets hold the same endpoints.
 */
export function diffEndpoints(before: EndpointSet, after: EndpointSet): EndpointUpdate[] {
  const removed = [...before].filter(([key]) => !after.has(key)).map(([, endpoint]) => endpoint.address);
  const added = [...after].filter(([key, endpoint]) => {
    const old = before.get(key);
    return old === undefined || !sameEndpoint(old, endpoint);
  });
  const updates: EndpointUpdate[] = [];
  if (removed.length > 0) updates.push({ kind: 'remove', addresses: removed });
  if (added.length > 0) updates.push({ kind: 'add', endpoints: added.map(([, endpoint]) => endpoint) });
  return updates;
}

/** Whether two endpoints carry the same address, weight, labels, identity and protocol hint. */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a.address.ip === b.address.ip &&
    a.address.port === b.address.port &&
    a.weight === b.weight &&
    a.tlsIdentity === b.tlsIdentity &&
    a.proxyInboundPort === b.proxyInboundPort &&
    a.protocolHint === b.protocolHint &&
    sameLabels(a.labels, b.labels)
  );
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}
