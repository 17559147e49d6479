import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Authority, parseAuthority } from '../discovery/authority.js';
import { unwrap } from '../shared/result.js';
import { InvalidRouteError } from './invalid-route-error.js';
import { DEFAULT_RETRY_BUDGET, InvalidRetryBudgetError } from './retry-budget.js';
import {
  compileServiceProfile,
  defaultServiceProfile,
  MAX_CONDITION_DEPTH,
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

describe('compileServiceProfile checks untyped input', () => {
  function refusal(profile: unknown) {
    let result: ReturnType<typeof compileServiceProfile> | undefined;
    expect(() => (result = compileServiceProfile(profile as ServiceProfile))).not.toThrow();
    if (result === undefined || result.ok) throw new Error('accepted');
    return result.error;
  }
  const untyped = (condition: unknown) => profileWith([route('r', condition as ProfileRoute['condition'])]);
  const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
    let condition = leaf;
    for (let i = 1; i < depth; i++) condition = wrap(condition);
    return condition;
  };

  it.each([
    ['books v2.library:8080', 'contains whitespace'],
    ['http://books-v2.library:8080', 'has a scheme'],
    ['books-v2.library:99999', 'port 99999 is out of range'],
    ['books-v2..library:8080', 'empty label'],
    ['-books.library:8080', 'starts or ends with "-"'],
  ])('a dstOverrides authority %j that is not an authority', (authority, reason) => {
    const error = refusal(profileWith([], { dstOverrides: [{ authority: 'books-v1.library:8080', weight: 1 }, { authority, weight: 1 }] }));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.input).toBe(authority);
    const parsed = parseAuthority(authority);
    if (parsed.ok) throw new Error('parseAuthority accepts it');
    expect(error.message).toContain(`dstOverrides[1] authority ${JSON.stringify(authority)} ${parsed.error.reason}`);
    expect(parsed.error.reason).toContain(reason);
  });

  it(`conditions nested deeper than ${MAX_CONDITION_DEPTH}, such as 20000 nested "not", without overflowing the stack`, () => {
    const deep = refusal(untyped(nested(20_000, { method: 'GET' }, (inner) => ({ not: inner }))));
    expect(deep).toBeInstanceOf(InvalidRouteError);
    expect(deep.input).toBe('r');
    expect(deep.message).toContain(`a condition is nested more than ${MAX_CONDITION_DEPTH} levels deep`);
    const deepAll = refusal(untyped(nested(MAX_CONDITION_DEPTH + 1, { method: 'GET' }, (inner) => ({ all: [inner] }))));
    expect(deepAll.message).toContain('nested more than');
    const justFits = unwrap(compileServiceProfile(untyped(nested(MAX_CONDITION_DEPTH, { method: 'GET' }, (inner) => ({ any: [inner] })))));
    expect(matchProfileRoute(justFits, { method: 'GET', path: '/' })?.name).toBe('r');
    expect(matchProfileRoute(justFits, { method: 'PUT', path: '/' })).toBeUndefined();
    const responses = profileWith([
      route('r', { all: [] }, { responseClasses: [{ condition: nested(20_000, { status: { min: 500, max: 599 } }, (inner) => ({ not: inner })) as never, isFailure: true }] }),
    ]);
    expect(refusal(responses).message).toContain(`a response condition is nested more than ${MAX_CONDITION_DEPTH} levels deep`);
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'a condition is null, not an object with one of all, any, not, pathRegex or method'],
    ['a list', [{ method: 'GET' }], 'a condition is a list of 1, not an object'],
    ['a pathRegex that is a number', { pathRegex: 5 }, 'pathRegex 5 is not text'],
    ['a method that is a number', { method: 5 }, 'method 5 is not an HTTP method'],
    ['a method that only upper-cases to a token', { method: 'poſt' }, 'method "poſt" is not an HTTP method'],
    ['all that is not a list', { all: 'GET' }, 'all is "GET", not a list of conditions'],
    ['not null', { not: null }, 'a condition is null'],
    ['two forms at once', { method: 'GET', pathRegex: '/books' }, 'a condition has both pathRegex and method'],
    ['a pathRegex that backtracks catastrophically', { pathRegex: '(a+)+b' }, 'pathRegex "(a+)+b" can backtrack catastrophically'],
  ])('a condition that is %s, naming the route', (_what, condition, expected) => {
    const error = refusal(untyped(condition));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.input).toBe('r');
    expect(error.message).toContain(expected);
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'a response condition is null'],
    ['a status that is null', { status: null }, 'status range undefined..undefined is not valid'],
    ['a status given as text', { status: { min: '500', max: 599 } }, 'status range "500"..599 is not valid'],
    ['two forms at once', { status: { min: 500, max: 599 }, not: { status: { min: 503, max: 503 } } }, 'has both not and status'],
  ])('a response condition that is %s', (_what, condition, expected) => {
    const error = refusal(profileWith([route('r', { all: [] }, { responseClasses: [{ condition: condition as never, isFailure: true }] })]));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.message).toContain(expected);
  });

  it.each<[string, unknown, string]>([
    ['not an object', null, 'the profile is null, not an object'],
    ['without a name', { ...defaultServiceProfile(FQDN), fullyQualifiedName: 5 }, 'fullyQualifiedName 5 is not a name'],
    ['with routes that are not a list', { ...defaultServiceProfile(FQDN), routes: {} }, 'routes is an empty object, not a list'],
    ['with a route that is null', profileWith([null as never]), 'route #1 is null, not an object'],
    ['with a route name that is a number', profileWith([{ ...route('r', { all: [] }), name: 5 as never }]), 'route #1 has an empty name'],
    ['with a timeout given as text', profileWith([route('r', { all: [] }, { timeoutMs: '5' as never })]), 'timeout "5" ms is negative or not a number'],
    ['with isRetryable given as text', profileWith([route('r', { all: [] }, { isRetryable: 'yes' as never })]), 'isRetryable is "yes", not true or false'],
    ['with responseClasses null', profileWith([route('r', { all: [] }, { responseClasses: null as never })]), 'responseClasses is null, not a list'],
    ['with isFailure missing', profileWith([route('r', { all: [] }, { responseClasses: [{ condition: { status: { min: 500, max: 599 } } } as never] })]), 'responseClasses[0].isFailure is undefined'],
    ['with a dstOverride that is null', profileWith([], { dstOverrides: [null as never] }), 'dstOverrides[0] is null'],
    ['with a dstOverride weight given as text', profileWith([], { dstOverrides: [{ authority: 'b.library:80', weight: '5' as never }] }), 'dstOverrides[0] weight "5" is not a whole number'],
    ['with a dstOverride authority that is a number', profileWith([], { dstOverrides: [{ authority: 5 as never, weight: 1 }] }), 'dstOverrides[0] has an empty authority'],
    ['with opaqueProtocol given as text', { ...defaultServiceProfile(FQDN), opaqueProtocol: 'no' }, 'opaqueProtocol is "no", not true or false'],
  ])('a profile %s', (_what, profile, expected) => {
    const error = refusal(profile);
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error.message).toContain(expected);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['with a ratio given as text', { ...DEFAULT_RETRY_BUDGET, retryRatio: '0.2' }],
  ])('a retry budget that is %s', (_what, retryBudget) => {
    expect(refusal(profileWith([], { retryBudget: retryBudget as never }))).toBeInstanceOf(InvalidRetryBudgetError);
  });

  it('never throws, whatever value stands for the profile, a route, a condition or a response class (property)', () => {
    const anything = fc.anything({ maxDepth: 4 });
    fc.assert(
      fc.property(anything, anything, anything, anything, (profile, routeValue, condition, responseClass) => {
        const candidates = [
          profile,
          profileWith([routeValue as ProfileRoute]),
          untyped(condition),
          profileWith([route('r', { all: [] }, { responseClasses: [responseClass as never] })]),
          { ...defaultServiceProfile(FQDN), ...(typeof profile === 'object' ? profile : {}) },
        ];
        for (const candidate of candidates) expect(() => compileServiceProfile(candidate as ServiceProfile)).not.toThrow();
      }),
    );
  });
});
