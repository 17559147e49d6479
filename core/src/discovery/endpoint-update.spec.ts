import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../shared/result.js';
import { type Endpoint, makeEndpoint } from './endpoint.js';
import {
  applyEndpointUpdate,
  diffEndpoints,
  type EndpointSet,
  endpointSetOf,
  type EndpointUpdate,
  sameEndpoint,
} from './endpoint-update.js';

function endpoint(address: string, extra: Partial<Omit<Endpoint, 'address'>> = {}): Endpoint {
  return unwrap(makeEndpoint({ address, ...extra }));
}

const a = endpoint('10.0.0.1:80');
const b = endpoint('10.0.0.2:80');
const c = endpoint('[::1]:80');

function keys(set: EndpointSet): string[] {
  return [...set.keys()].sort();
}

describe('applyEndpointUpdate', () => {
  it('adds, re-adds, removes, resets and empties on doesNotExist', () => {
    let set: EndpointSet = new Map();
    set = applyEndpointUpdate(set, { kind: 'add', endpoints: [a, b] });
    expect(keys(set)).toEqual(['10.0.0.1:80', '10.0.0.2:80']);
    const heavier = endpoint('10.0.0.1:80', { weight: 5 });
    set = applyEndpointUpdate(set, { kind: 'add', endpoints: [heavier] });
    expect(set.get('10.0.0.1:80')).toBe(heavier);
    set = applyEndpointUpdate(set, { kind: 'remove', addresses: [{ ip: '10.0.0.2', port: 80 }, { ip: '10.9.9.9', port: 1 }] });
    expect(keys(set)).toEqual(['10.0.0.1:80']);
    set = applyEndpointUpdate(set, { kind: 'reset', endpoints: [c] });
    expect(keys(set)).toEqual(['[::1]:80']);
    set = applyEndpointUpdate(set, { kind: 'doesNotExist' });
    expect(set.size).toBe(0);
  });

  it('leaves the set it was given unchanged', () => {
    const before = endpointSetOf([a]);
    applyEndpointUpdate(before, { kind: 'add', endpoints: [b] });
    applyEndpointUpdate(before, { kind: 'remove', addresses: [a.address] });
    expect(keys(before)).toEqual(['10.0.0.1:80']);
  });
});

describe('diffEndpoints', () => {
  it('is empty between equal sets, even when built from different objects', () => {
    const labelled = () => endpoint('10.0.0.1:80', { labels: { pod: 'p', zone: 'z' } });
    expect(diffEndpoints(endpointSetOf([labelled(), b]), endpointSetOf([b, labelled()]))).toEqual([]);
  });

  it('removes what is gone and adds what is new', () => {
    expect(diffEndpoints(endpointSetOf([a, b]), endpointSetOf([b, c]))).toEqual([
      { kind: 'remove', addresses: [a.address] },
      { kind: 'add', endpoints: [c] },
    ]);
  });

  it.each<[string, Partial<Omit<Endpoint, 'address'>>]>([
    ['weight', { weight: 1 }],
    ['labels', { labels: { pod: 'other' } }],
    ['identity', { tlsIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local' }],
    ['protocol hint', { protocolHint: 'opaque' }],
    ['proxy inbound port', { proxyInboundPort: 4243 }],
  ])('re-adds an endpoint whose %s changed', (_what, change) => {
    const changed = endpoint('10.0.0.1:80', change);
    expect(sameEndpoint(a, changed)).toBe(false);
    expect(diffEndpoints(endpointSetOf([a, b]), endpointSetOf([changed, b]))).toEqual([
      { kind: 'add', endpoints: [changed] },
    ]);
  });
});

const endpointArb = fc
  .record({
    host: fc.integer({ min: 1, max: 6 }),
    port: fc.constantFrom(80, 8080),
    weight: fc.constantFrom(0, 1, 10_000),
    labels: fc.dictionary(fc.constantFrom('pod', 'zone'), fc.constantFrom('a', 'b')),
    tlsIdentity: fc.option(fc.constantFrom('a.ns.serviceaccount.identity.weft.cluster.local'), { nil: undefined }),
  })
  .map(({ host, port, weight, labels, tlsIdentity }) =>
    unwrap(makeEndpoint({ address: `10.0.0.${host}:${port}`, weight, labels, ...(tlsIdentity ? { tlsIdentity } : {}) })),
  );
const snapshotArb = fc.array(endpointArb, { maxLength: 8 }).map(endpointSetOf);

describe('diffEndpoints properties', () => {
  it('applying the diff of two snapshots turns the first into the second', () => {
    fc.assert(
      fc.property(snapshotArb, snapshotArb, (before, after) => {
        const result = diffEndpoints(before, after).reduce<EndpointSet>(applyEndpointUpdate, before);
        expect(keys(result)).toEqual(keys(after));
        for (const [key, value] of after) expect(sameEndpoint(result.get(key) as Endpoint, value)).toBe(true);
      }),
    );
  });

  it('a walk of snapshots, applied as first reset then diffs, ends at the last snapshot', () => {
    fc.assert(
      fc.property(fc.array(snapshotArb, { minLength: 1, maxLength: 6 }), (snapshots) => {
        const [first, ...rest] = snapshots as [EndpointSet, ...EndpointSet[]];
        const updates: EndpointUpdate[] = [{ kind: 'reset', endpoints: [...first.values()] }];
        let previous = first;
        for (const next of rest) {
          updates.push(...diffEndpoints(previous, next));
          previous = next;
        }
        const held = updates.reduce<EndpointSet>(applyEndpointUpdate, new Map());
        expect([...held.entries()].sort()).toEqual([...previous.entries()].sort());
      }),
    );
  });
});
