import type { tap } from '@weft/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TapRequestInit } from './tap-hub.js';
import { compileTapMatch, InvalidTapMatchError, type TapRequestPredicate } from './tap-match.js';

function request(overrides: Partial<TapRequestInit> = {}): TapRequestInit {
  return {
    id: 1,
    direction: 'outbound',
    source: { ip: '10.0.0.1', port: 40_000 },
    destination: { ip: '10.0.0.2', port: 8080 },
    method: 'GET',
    scheme: 'http',
    authority: 'web.shop:8080',
    path: '/books/1',
    headers: {},
    ...overrides,
  };
}

function compiled(match: tap.Match | undefined): TapRequestPredicate {
  const result = compileTapMatch(match);
  if (!result.ok) throw result.error;
  return result.value;
}

const not = (value: tap.Match): tap.Match => ({ kind: { $case: 'not', value } });
const all = (...matches: tap.Match[]): tap.Match => ({ kind: { $case: 'all', value: { matches } } });
const any = (...matches: tap.Match[]): tap.Match => ({ kind: { $case: 'any', value: { matches } } });

// Small pools, so that random leaves and random requests often agree.
const authorities = ['web.shop:8080', 'WEB.shop:8080', 'books:7000'];
const paths = ['/', '/books', '/books/1', '/orders'];
const methods = ['GET', 'POST'];
const ports = [8080, 7000];

const requests = fc.record({
  authority: fc.constantFrom(...authorities),
  path: fc.constantFrom(...paths),
  method: fc.constantFrom(...methods),
  port: fc.constantFrom(...ports),
}).map(({ port, ...rest }) => request({ ...rest, destination: { ip: '10.0.0.2', port } }));

const leaves: fc.Arbitrary<tap.Match> = fc.oneof(
  fc.constantFrom(...authorities).map((value) => ({ kind: { $case: 'authority' as const, value } })),
  fc.constantFrom(...paths).map((value) => ({ kind: { $case: 'pathPrefix' as const, value } })),
  fc.constantFrom(...methods).map((value) => ({ kind: { $case: 'method' as const, value } })),
  fc.constantFrom(...ports).map((value) => ({ kind: { $case: 'destinationPort' as const, value } })),
);

const { tree: matches } = fc.letrec<{ tree: tap.Match }>((tie) => ({
  tree: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'match' },
    leaves,
    tie('tree').map(not),
    fc.array(tie('tree'), { maxLength: 3 }).map((inner) => all(...inner)),
    fc.array(tie('tree'), { maxLength: 3 }).map((inner) => any(...inner)),
  ),
}));

describe('compileTapMatch', () => {
  it('matches every request when the match is unset or sets no kind at the top', () => {
    expect(compiled(undefined)(request())).toBe(true);
    expect(compiled({ kind: undefined })(request())).toBe(true);
  });

  it('compares authorities without regard to case, and ports of the destination', () => {
    expect(compiled({ kind: { $case: 'authority', value: 'Web.Shop:8080' } })(request({ authority: 'WEB.shop:8080' }))).toBe(true);
    expect(compiled({ kind: { $case: 'authority', value: 'web.shop' } })(request())).toBe(false);
    expect(compiled({ kind: { $case: 'destinationPort', value: 8080 } })(request())).toBe(true);
    expect(compiled({ kind: { $case: 'destinationPort', value: 40_000 } })(request())).toBe(false);
  });

  it('obeys the laws of not, all and any', () => {
    fc.assert(
      fc.property(matches, matches, requests, (a, b, each) => {
        const holds = (match: tap.Match) => compiled(match)(each);
        expect(holds(not(not(a)))).toBe(holds(a));
        expect(holds(all(a, b))).toBe(holds(a) && holds(b));
        expect(holds(any(a, b))).toBe(holds(a) || holds(b));
        expect(holds(any(a, b))).toBe(!holds(all(not(a), not(b))));
      }),
    );
  });

  it.each([
    ['a nested Match with no kind', all({ kind: undefined }), 'no condition set'],
    ['a method in lower case', { kind: { $case: 'method', value: 'get' } } as tap.Match, 'upper case'],
    ['an empty method', { kind: { $case: 'method', value: '' } } as tap.Match, 'upper case'],
    ['a port above 65535', { kind: { $case: 'destinationPort', value: 70_000 } } as tap.Match, 'out of range'],
    ['more than 256 conditions', any(...Array.from({ length: 300 }, () => not({ kind: { $case: 'method', value: 'GET' } }))), 'more than 256'],
    ['nesting deeper than 16', Array.from({ length: 16 }).reduce<tap.Match>((inner) => not(inner), { kind: { $case: 'pathPrefix', value: '/' } }), 'deeper than 16'],
  ])('refuses %s', (_name, match, reason) => {
    const result = compileTapMatch(match);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidTapMatchError);
    expect(result.error.reason).toContain(reason);
    expect(result.error.input.length).toBeGreaterThan(0);
    expect(result.error.toString()).toMatch(/^invalid tap match /);
  });

  it('accepts nesting of exactly 16', () => {
    const deepest = Array.from({ length: 15 }).reduce<tap.Match>((inner) => not(inner), { kind: { $case: 'pathPrefix', value: '/' } });
    expect(compileTapMatch(deepest).ok).toBe(true);
  });
});
