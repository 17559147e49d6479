import { describe, expect, it } from 'vitest';
import type { Authority } from '../discovery/authority.js';
import { unwrap } from '../shared/result.js';
import { InvalidRouteError } from './invalid-route-error.js';
import { DEFAULT_RETRY_BUDGET, InvalidRetryBudgetError } from './retry-budget.js';
import {
  compileServiceProfile,
  defaultServiceProfile,
  isFailureResponse,
  matchProfileRoute,
  type ProfileRoute,
  type ServiceProfile,
  serviceProfileName,
} from './service-profile.js';

const FQDN = 'books.library.svc.cluster.local';

function profileWith(routes: readonly ProfileRoute[], change: Partial<ServiceProfile> = {}): ServiceProfile {
  return { ...defaultServiceProfile(FQDN), routes, ...change };
}

function route(name: string, condition: ProfileRoute['condition'], extra: Partial<ProfileRoute> = {}): ProfileRoute {
  return { name, condition, responseClasses: [], isRetryable: false, ...extra };
}

const books: readonly ProfileRoute[] = [
  route('GET /books/{id}', { all: [{ method: 'GET' }, { pathRegex: '/books/[^/]+' }] }, { isRetryable: true, timeoutMs: 300 }),
  route('POST /books', { all: [{ method: 'POST' }, { pathRegex: '/books' }] }),
  route('not GET', { not: { method: 'GET' } }),
  route('anything under /books', { any: [{ pathRegex: '/books/.*' }, { pathRegex: '/books' }] }),
];

describe('defaultServiceProfile', () => {
  it('has no routes, the default retry budget and no traffic split', () => {
    expect(defaultServiceProfile(FQDN)).toEqual({
      fullyQualifiedName: FQDN,
      routes: [],
      retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 },
      dstOverrides: [],
      opaqueProtocol: false,
    });
  });

  it('is named after the target without its port', () => {
    const targets: [Authority, string][] = [
      [{ kind: 'service', name: 'books', namespace: 'library', port: 8080, fqdn: FQDN }, FQDN],
      [{ kind: 'dns', host: 'api.example.com', port: 443 }, 'api.example.com'],
      [{ kind: 'ip', ip: '10.0.0.7', family: 4, port: 80 }, '10.0.0.7'],
    ];
    for (const [target, name] of targets) expect(serviceProfileName(target)).toBe(name);
  });
});

describe('matchProfileRoute', () => {
  const compiled = unwrap(compileServiceProfile(profileWith(books)));
  const match = (method: string, path: string) => matchProfileRoute(compiled, { method, path })?.name;

  it('gives the first route whose condition matches', () => {
    expect(match('GET', '/books/12')).toBe('GET /books/{id}');
    expect(match('POST', '/books')).toBe('POST /books');
    expect(match('DELETE', '/books/12')).toBe('not GET');
    expect(match('GET', '/books')).toBe('anything under /books');
  });

  it('matches the whole path, ignoring the query string, and methods in any case', () => {
    expect(match('get', '/books/12?fields=title')).toBe('GET /books/{id}');
    expect(match('GET', '/books/12/reviews')).toBe('anything under /books');
    expect(match('GET', '/api/books/12')).toBeUndefined();
  });

  it('exposes the route settings', () => {
    const found = matchProfileRoute(compiled, { method: 'GET', path: '/books/1' });
    expect(found).toMatchObject({ name: 'GET /books/{id}', isRetryable: true, timeoutMs: 300 });
    expect(found?.definition).toBe(books[0]);
  });

  it('treats all: [] as always and any: [] as never', () => {
    const edge = unwrap(compileServiceProfile(profileWith([route('never', { any: [] }), route('always', { all: [] })])));
    expect(matchProfileRoute(edge, { method: 'GET', path: '/x' })?.name).toBe('always');
  });

  it('finds nothing in a profile without routes', () => {
    const empty = unwrap(compileServiceProfile(defaultServiceProfile(FQDN)));
    expect(matchProfileRoute(empty, { method: 'GET', path: '/' })).toBeUndefined();
  });
});

describe('isFailureResponse', () => {
  const classified = route('GET /books/{id}', { method: 'GET' }, {
    responseClasses: [
      { condition: { status: { min: 404, max: 404 } }, isFailure: false },
      { condition: { all: [{ status: { min: 400, max: 499 } }, { not: { status: { min: 429, max: 429 } } }] }, isFailure: true },
      { condition: { any: [{ status: { min: 503, max: 503 } }] }, isFailure: false },
    ],
  });
  const compiled = unwrap(compileServiceProfile(profileWith([classified])));
  const found = matchProfileRoute(compiled, { method: 'GET', path: '/books/1' });

  it('lets the first matching class decide', () => {
    expect(isFailureResponse(found, 404)).toBe(false);
    expect(isFailureResponse(found, 400)).toBe(true);
    expect(isFailureResponse(found, 503)).toBe(false);
  });

  it('counts 5xx as failures when no class matches, or without a route', () => {
    expect(isFailureResponse(found, 500)).toBe(true);
    expect(isFailureResponse(found, 429)).toBe(false);
    expect(isFailureResponse(found, 200)).toBe(false);
    expect(isFailureResponse(undefined, 502)).toBe(true);
    expect(isFailureResponse(undefined, 404)).toBe(false);
  });
});

describe('compileServiceProfile refuses', () => {
  function refusal(profile: ServiceProfile) {
    const result = compileServiceProfile(profile);
    expect(result.ok).toBe(false);
    if (result.ok) throw new Error('accepted');
    return result.error;
  }

  it('a bad path regex, naming the route and the pattern', () => {
    const error = refusal(profileWith([route('GET /books/{id}', { all: [{ method: 'GET' }, { pathRegex: '(' }] })]));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.input).toBe('GET /books/{id}');
    expect(error.toString()).toMatch(/^invalid route "GET \/books\/\{id\}": pathRegex "\(" is not a valid regular expression: /);
  });

  it.each([
    [{ min: 600, max: 600 }, '600..600'],
    [{ min: 99, max: 200 }, '99..200'],
    [{ min: 500, max: 400 }, '500..400'],
    [{ min: 500.5, max: 599 }, '500.5..599'],
  ])('status range %o', (status, shown) => {
    const error = refusal(profileWith([route('r', { all: [] }, { responseClasses: [{ condition: { not: { status } }, isFailure: true }] })]));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.input).toBe('r');
    expect(error.message).toContain(`status range ${shown}`);
  });

  it('a negative timeout', () => {
    const error = refusal(profileWith([route('slow', { all: [] }, { timeoutMs: -1 })]));
    expect(error.input).toBe('slow');
    expect(error.message).toContain('timeout -1 ms');
  });

  it('an empty route name, saying which route', () => {
    const error = refusal(profileWith([route('ok', { all: [] }), route(' ', { all: [] })]));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.input).toBe(' ');
    expect(error.message).toContain('route #2 has an empty name');
  });

  it('a method that is not a token, and a condition of unknown shape', () => {
    expect(refusal(profileWith([route('m', { method: 'GE T' })])).message).toContain('method "GE T"');
    const shapeless = { pathPrefix: '/x' } as unknown as ProfileRoute['condition'];
    expect(refusal(profileWith([route('shape', { not: shapeless })])).message).toContain('none of all, any, not, pathRegex or method');
  });

  it.each([-1, 1.5, Number.NaN])('a dstOverrides weight of %s', (weight) => {
    const error = refusal(profileWith([], { dstOverrides: [{ authority: 'books-v2.library:8080', weight }] }));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.input).toBe('books-v2.library:8080');
    expect(error.message).toContain(`dstOverrides[0] weight ${weight}`);
  });

  it('a bad retry budget', () => {
    const error = refusal(profileWith([], { retryBudget: { ...DEFAULT_RETRY_BUDGET, ttlMs: 100 } }));
    expect(error).toBeInstanceOf(InvalidRetryBudgetError);
    expect(error.input).toBe('100');
  });

  it('but accepts weights of zero and a zero timeout', () => {
    const profile = profileWith([route('r', { all: [] }, { timeoutMs: 0 })], {
      dstOverrides: [
        { authority: 'books-v1.library:8080', weight: 0 },
        { authority: 'books-v2.library:8080', weight: 100 },
      ],
    });
    expect(compileServiceProfile(profile).ok).toBe(true);
  });
});
