import { destination } from '@weft/contracts';
import { DEFAULT_RETRY_BUDGET, type ProfileRoute, type RequestMatch, type ResponseMatch, type ServiceProfile } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { fromFloat32, serviceProfileFromWire } from './profile-from-wire.js';
import { serviceProfileToWire } from './profile-to-wire.js';

const requestMatch: fc.Arbitrary<RequestMatch> = fc.letrec<{ match: RequestMatch }>((tie) => ({
  match: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('/books/[^/]+', '/authors', '/api/v[0-9]+/.*').map((pathRegex) => ({ pathRegex })),
    fc.constantFrom('GET', 'POST', 'DELETE').map((method) => ({ method })),
    fc.array(tie('match'), { maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('match'), { maxLength: 3 }).map((any) => ({ any })),
    tie('match').map((not) => ({ not })),
  ),
})).match;

const responseMatch: fc.Arbitrary<ResponseMatch> = fc.letrec<{ match: ResponseMatch }>((tie) => ({
  match: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(fc.integer({ min: 100, max: 599 }), fc.integer({ min: 100, max: 599 }))
      .map(([x, y]) => ({ status: { min: Math.min(x, y), max: Math.max(x, y) } })),
    fc.array(tie('match'), { maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('match'), { maxLength: 3 }).map((any) => ({ any })),
    tie('match').map((not) => ({ not })),
  ),
})).match;

const route: fc.Arbitrary<ProfileRoute> = fc.record(
  {
    name: fc.constantFrom('GET /books/{id}', 'POST /books', 'authors'),
    condition: requestMatch,
    responseClasses: fc.array(fc.record({ condition: responseMatch, isFailure: fc.boolean() }), { maxLength: 3 }),
    isRetryable: fc.boolean(),
    timeoutMs: fc.integer({ min: 1, max: 600_000 }),
  },
  { requiredKeys: ['name', 'condition', 'responseClasses', 'isRetryable'] },
);

const profile: fc.Arbitrary<ServiceProfile> = fc.record({
  fullyQualifiedName: fc.constantFrom('books.library.svc.cluster.local', 'api.example.com', '10.0.0.7'),
  routes: fc.array(route, { maxLength: 4 }),
  retryBudget: fc.record({
    retryRatio: fc.integer({ min: 0, max: 100_000 }).map((hundredths) => hundredths / 100),
    minRetriesPerSecond: fc.integer({ min: 0, max: 1_000 }),
    ttlMs: fc.integer({ min: 1_000, max: 60_000 }),
  }),
  dstOverrides: fc.array(
    fc.record({
      authority: fc.constantFrom('books-v1.library.svc.cluster.local:8080', 'books-v2.library:8080', '10.0.0.9:80'),
      weight: fc.integer({ min: 0, max: 1_000 }),
    }),
    { maxLength: 3 },
  ),
  opaqueProtocol: fc.boolean(),
});

function overTheWire(wire: destination.DestinationProfile): destination.DestinationProfile {
  return destination.DestinationProfile.decode(destination.DestinationProfile.encode(wire).finish());
}

function wireProfile(fields: Partial<destination.DestinationProfile>): destination.DestinationProfile {
  return { fullyQualifiedName: 'books.library.svc.cluster.local', opaqueProtocol: false, routes: [], dstOverrides: [], ...fields };
}

function wireRoute(fields: Partial<destination.Route>): destination.Route {
  return { name: 'books', condition: { match: { $case: 'method', value: 'GET' } }, responseClasses: [], isRetryable: false, ...fields };
}

describe('profile translators', () => {
  it('carry any valid profile across the wire unchanged', () => {
    fc.assert(
      fc.property(profile, (value) => {
        expect(serviceProfileFromWire(overTheWire(serviceProfileToWire(value)), 'unused')).toEqual({ ok: true, value });
      }),
    );
  });

  it('read a float32 retry ratio back as the decimal that was sent', () => {
    expect(fromFloat32(Math.fround(0.2))).toBe(0.2);
    expect(fromFloat32(Math.fround(0.05))).toBe(0.05);
    expect(fromFloat32(Math.fround(1 / 3))).toBe(0.33333334);
  });

  it('read an unset retry budget as the default one and an empty name as the watched one', () => {
    const read = serviceProfileFromWire(wireProfile({ fullyQualifiedName: '' }), '10.0.0.7');
    expect(read).toEqual({
      ok: true,
      value: { fullyQualifiedName: '10.0.0.7', routes: [], retryBudget: DEFAULT_RETRY_BUDGET, dstOverrides: [], opaqueProtocol: false },
    });
  });

  it('read a zero route timeout as no timeout', () => {
    const read = serviceProfileFromWire(wireProfile({ routes: [wireRoute({ timeout: { seconds: 0n, nanos: 0 } })] }), 'x');
    expect(read.ok && read.value.routes[0]).toEqual({ name: 'books', condition: { method: 'GET' }, responseClasses: [], isRetryable: false });
  });

  let deep: destination.RequestMatch = { match: { $case: 'method', value: 'GET' } };
  for (let level = 0; level < 40; level += 1) deep = { match: { $case: 'not', value: deep } };

  const cases: [string, destination.DestinationProfile, string, string][] = [
    ['a route without a condition', wireProfile({ routes: [{ ...wireRoute({}), condition: undefined }] }), 'routes[0].condition', 'books'],
    ['a condition with nothing set', wireProfile({ routes: [wireRoute({ condition: {} })] }), 'routes[0].condition', ''],
    [
      'a nested condition with nothing set',
      wireProfile({
        routes: [wireRoute({}), wireRoute({ condition: { match: { $case: 'all', value: { matches: [{ match: { $case: 'method', value: 'GET' } }, {}] } } } })],
      }),
      'routes[1].condition.all.matches[1]',
      '',
    ],
    ['a condition nested too deep', wireProfile({ routes: [wireRoute({ condition: deep })] }), `routes[0].condition${'.not'.repeat(32)}`, ''],
    [
      'a response class without a condition',
      wireProfile({ routes: [wireRoute({ responseClasses: [{ isFailure: true }] })] }),
      'routes[0].response_classes[0].condition',
      'books',
    ],
    [
      'a negative timeout',
      wireProfile({ routes: [wireRoute({ timeout: { seconds: -1n, nanos: 0 } })] }),
      'routes[0].timeout',
      '-1s 0ns',
    ],
    [
      'a timeout whose nanos overflow',
      wireProfile({ routes: [wireRoute({ timeout: { seconds: 1n, nanos: 2_000_000_000 } })] }),
      'routes[0].timeout',
      '1s 2000000000ns',
    ],
    [
      'a path regex that does not compile',
      wireProfile({ routes: [wireRoute({ condition: { match: { $case: 'pathRegex', value: '/books/(' } } })] }),
      'routes[0]',
      'books',
    ],
    [
      'a status range upside down',
      wireProfile({ routes: [wireRoute({ responseClasses: [{ isFailure: true, condition: { match: { $case: 'status', value: { min: 599, max: 500 } } } }] })] }),
      'routes[0]',
      'books',
    ],
    [
      'a retry budget without a window',
      wireProfile({ retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10 } }),
      'retry_budget.ttl',
      '',
    ],
    [
      'a retry ratio out of range',
      wireProfile({ retryBudget: { retryRatio: 5_000, minRetriesPerSecond: 10, ttl: { seconds: 10n, nanos: 0 } } }),
      'retry_budget',
      '5000',
    ],
    [
      'a split to something that is not an authority',
      wireProfile({ dstOverrides: [{ authority: 'http://books', weight: 1 }] }),
      'dst_overrides',
      'http://books',
    ],
  ];

  it.each(cases)('refuse %s with a typed error naming the field', (_name, wire, field, input) => {
    const read = serviceProfileFromWire(wire, 'books.library.svc.cluster.local');
    expect(read.ok).toBe(false);
    const error = read.ok ? undefined : read.error;
    expect(error).toBeInstanceOf(InvalidWireMessageError);
    expect(error?.field).toBe(field);
    expect(error?.input).toBe(input);
    expect(error?.message).toContain(field);
  });

  it('never throw on whatever a peer sends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        let wire: destination.DestinationProfile;
        try {
          wire = destination.DestinationProfile.decode(bytes);
        } catch {
          return;
        }
        const read = serviceProfileFromWire(wire, 'fallback');
        if (!read.ok) expect(read.error).toBeInstanceOf(InvalidWireMessageError);
      }),
    );
  });
});
