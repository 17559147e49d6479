import {
  applyEndpointUpdate,
  type Endpoint,
  type EndpointSet,
  type EndpointUpdate,
  makeEndpoint,
  unwrap,
} from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EndpointStreamState } from './endpoint-stream-state.js';

function endpoint(address: string, weight = 10_000): Endpoint {
  return unwrap(makeEndpoint({ address, weight }));
}

const a = endpoint('10.0.0.1:80');
const b = endpoint('10.0.0.2:80');
const c = endpoint('10.0.0.3:80');

describe('EndpointStreamState', () => {
  it('opens with the first update as it is, reset or doesNotExist', () => {
    expect(new EndpointStreamState().next({ kind: 'reset', endpoints: [a] })).toEqual([{ kind: 'reset', endpoints: [a] }]);
    expect(new EndpointStreamState().next({ kind: 'doesNotExist' })).toEqual([{ kind: 'doesNotExist' }]);
  });

  it('turns a reset over a held set into the difference, and sends nothing for the same set', () => {
    const state = new EndpointStreamState();
    state.next({ kind: 'reset', endpoints: [a, b] });
    expect(state.next({ kind: 'reset', endpoints: [b, a] })).toEqual([]);
    expect(state.next({ kind: 'reset', endpoints: [b, c] })).toEqual([
      { kind: 'remove', addresses: [a.address] },
      { kind: 'add', endpoints: [c] },
    ]);
  });

  it('drops the parts of add and remove that change nothing', () => {
    const state = new EndpointStreamState();
    state.next({ kind: 'reset', endpoints: [a] });
    const heavier = endpoint('10.0.0.1:80', 5);
    expect(state.next({ kind: 'add', endpoints: [a, b] })).toEqual([{ kind: 'add', endpoints: [b] }]);
    expect(state.next({ kind: 'add', endpoints: [heavier] })).toEqual([{ kind: 'add', endpoints: [heavier] }]);
    expect(state.next({ kind: 'remove', addresses: [c.address] })).toEqual([]);
    expect(state.next({ kind: 'remove', addresses: [b.address, c.address] })).toEqual([{ kind: 'remove', addresses: [b.address] }]);
  });

  it('sends doesNotExist once, and a reset when the service comes back', () => {
    const state = new EndpointStreamState();
    state.next({ kind: 'reset', endpoints: [a] });
    expect(state.next({ kind: 'doesNotExist' })).toEqual([{ kind: 'doesNotExist' }]);
    expect(state.next({ kind: 'doesNotExist' })).toEqual([]);
    expect(state.next({ kind: 'remove', addresses: [a.address] })).toEqual([]);
    expect(state.next({ kind: 'add', endpoints: [b] })).toEqual([{ kind: 'reset', endpoints: [b] }]);
    expect(state.snapshot()).toEqual({ kind: 'reset', endpoints: [b] });
  });

  it('lets a receiver that applies what it sends hold what it was given, with no empty or repeated update', () => {
    const pool = ['10.0.0.1:80', '10.0.0.2:80', '[fd00::3]:80', '10.0.0.4:81'];
    const anEndpoint = fc
      .record({ address: fc.constantFrom(...pool), weight: fc.integer({ min: 0, max: 3 }) })
      .map(({ address, weight }) => endpoint(address, weight));
    const anUpdate: fc.Arbitrary<EndpointUpdate> = fc.oneof(
      fc.array(anEndpoint, { maxLength: 4 }).map((endpoints) => ({ kind: 'reset' as const, endpoints })),
      fc.array(anEndpoint, { maxLength: 4 }).map((endpoints) => ({ kind: 'add' as const, endpoints })),
      fc.array(anEndpoint, { maxLength: 4 }).map((endpoints) => ({ kind: 'remove' as const, addresses: endpoints.map((e) => e.address) })),
      fc.constant({ kind: 'doesNotExist' as const }),
    );
    fc.assert(
      fc.property(fc.array(anUpdate, { minLength: 1, maxLength: 20 }), (updates) => {
        const state = new EndpointStreamState();
        let given: EndpointSet | 'doesNotExist' | undefined;
        let received: EndpointSet = new Map();
        const sent: EndpointUpdate[] = [];
        for (const update of updates) {
          // A stream opens with a whole state; a remove before it has nothing to act on.
          if (given === undefined && update.kind === 'remove') continue;
          const base = given === 'doesNotExist' || given === undefined ? new Map() : given;
          given = update.kind === 'doesNotExist' ? 'doesNotExist' : applyEndpointUpdate(base, update);
          for (const change of state.next(update)) {
            sent.push(change);
            received = applyEndpointUpdate(received, change);
          }
          expect(received).toEqual(given === 'doesNotExist' ? new Map() : given);
        }
        if (sent.length > 0) expect(['reset', 'doesNotExist']).toContain(sent[0]?.kind);
        for (const change of sent) {
          if (change.kind === 'add') expect(change.endpoints.length).toBeGreaterThan(0);
          if (change.kind === 'remove') expect(change.addresses.length).toBeGreaterThan(0);
        }
        sent.forEach((change, index) => {
          if (index > 0 && change.kind === 'doesNotExist') expect(sent[index - 1]?.kind).not.toBe('doesNotExist');
        });
      }),
    );
  });
});
