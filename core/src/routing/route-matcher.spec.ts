import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../shared/result.js';
import type { HttpHeaderMatch, HttpPathMatch, HttpQueryParamMatch, HttpRoute, HttpRouteMatch, HttpRouteRule } from './http-route.js';
import { InvalidRouteError } from './invalid-route-error.js';
import { compileHttpRoutes, type HttpRouteRequest, selectHttpRoute } from './route-matcher.js';

function httpRoute(name: string, matches: readonly HttpRouteMatch[], change: Partial<HttpRoute> = {}): HttpRoute {
  return { name, namespace: 'shop', createdAtMs: 0, hostnames: [], rules: [{ matches, backends: [] }], ...change };
}

function request(path: string, change: Partial<HttpRouteRequest> = {}): HttpRouteRequest {
  return { method: 'GET', path, headers: {}, ...change };
}

/** "name#rule" of the selected rule, or undefined. */
function select(routes: readonly HttpRoute[], req: HttpRouteRequest): string | undefined {
  const selection = selectHttpRoute(unwrap(compileHttpRoutes(routes)), req);
  return selection && `${selection.route.name}#${selection.ruleIndex}`;
}

const prefix = (value: string): HttpRouteMatch => ({ path: { type: 'PathPrefix', value } });
const exact = (value: string): HttpRouteMatch => ({ path: { type: 'Exact', value } });
const regex = (value: string): HttpRouteMatch => ({ path: { type: 'RegularExpression', value } });

describe('selectHttpRoute: matching', () => {
  it('matches a PathPrefix on whole path elements', () => {
    const routes = [httpRoute('foo', [prefix('/foo')])];
    expect(select(routes, request('/foo'))).toBe('foo#0');
    expect(select(routes, request('/foo/bar'))).toBe('foo#0');
    expect(select(routes, request('/foo?x=1'))).toBe('foo#0');
    expect(select(routes, request('/foobar'))).toBeUndefined();
    expect(select(routes, request('/'))).toBeUndefined();
  });

  it('ignores a trailing slash in a prefix, and lets "/" match everything', () => {
    expect(select([httpRoute('foo', [prefix('/foo/')])], request('/foo'))).toBe('foo#0');
    expect(select([httpRoute('foo', [prefix('/foo/')])], request('/foobar'))).toBeUndefined();
    expect(select([httpRoute('all', [prefix('/')])], request('/anything/at/all'))).toBe('all#0');
  });

  it('treats a rule without matches, and a match without a path, as matching everything', () => {
    expect(select([httpRoute('none', [])], request('/x', { method: 'DELETE' }))).toBe('none#0');
    expect(select([httpRoute('method-only', [{ method: 'delete' }])], request('/x', { method: 'DELETE' }))).toBe('method-only#0');
  });

  it('matches Exact paths and full regular expressions', () => {
    const routes = [httpRoute('exact', [exact('/books')]), httpRoute('regex', [regex('/books/[0-9]+')])];
    expect(select(routes, request('/books'))).toBe('exact#0');
    expect(select(routes, request('/books/12'))).toBe('regex#0');
    expect(select(routes, request('/books/12/x'))).toBeUndefined();
    expect(select(routes, request('/books/'))).toBeUndefined();
  });

  it('compares header names without case and values with case, joining repeated values', () => {
    const canary: HttpHeaderMatch = { type: 'Exact', name: 'X-Canary', value: 'yes' };
    const routes = [httpRoute('canary', [{ headers: [canary] }])];
    expect(select(routes, request('/', { headers: { 'x-canary': 'yes' } }))).toBe('canary#0');
    expect(select(routes, request('/', { headers: { 'X-CANARY': 'yes' } }))).toBe('canary#0');
    expect(select(routes, request('/', { headers: { 'x-canary': 'YES' } }))).toBeUndefined();
    expect(select(routes, request('/', { headers: { 'x-canary': undefined } }))).toBeUndefined();
    const joined = [httpRoute('joined', [{ headers: [{ type: 'RegularExpression', name: 'accept', value: 'a, b' }] }])];
    expect(select(joined, request('/', { headers: { accept: ['a', 'b'] } }))).toBe('joined#0');
    expect(select(joined, request('/', { headers: { accept: 'a, b, c' } }))).toBeUndefined();
  });

  it('reads query parameters from `query` or from the path, names with case, first value only', () => {
    const page: HttpQueryParamMatch = { type: 'RegularExpression', name: 'page', value: '[0-9]+' };
    const routes = [httpRoute('paged', [{ queryParams: [page] }])];
    expect(select(routes, request('/books?page=2'))).toBe('paged#0');
    expect(select(routes, request('/books?page=2&page=x'))).toBe('paged#0');
    expect(select(routes, request('/books?page=x&page=2'))).toBeUndefined();
    expect(select(routes, request('/books?Page=2'))).toBeUndefined();
    expect(select(routes, request('/books', { query: { page: ['3', 'x'] } }))).toBe('paged#0');
    expect(select(routes, request('/books?page=2', { query: {} }))).toBeUndefined();
    const spaced = [httpRoute('q', [{ queryParams: [{ type: 'Exact', name: 'q', value: 'a b/c' }] }])];
    expect(select(spaced, request('/search?q=a+b%2Fc'))).toBe('q#0');
    expect(select(spaced, request('/search?q=%E0%A4%A'))).toBeUndefined();
  });

  it('does not mistake inherited object properties for headers or parameters', () => {
    const routes = [
      httpRoute('proto', [{ headers: [{ type: 'RegularExpression', name: 'constructor', value: '.*' }] }]),
      httpRoute('query', [{ queryParams: [{ type: 'RegularExpression', name: 'toString', value: '.*' }] }]),
    ];
    expect(select(routes, request('/?__proto__=1'))).toBeUndefined();
  });

  it('compares methods in upper case', () => {
    const routes = [httpRoute('post', [{ method: 'POST' }])];
    expect(select(routes, request('/', { method: 'post' }))).toBe('post#0');
    expect(select(routes, request('/', { method: 'GET' }))).toBeUndefined();
  });
});

describe('selectHttpRoute: host names', () => {
  const routes = [
    httpRoute('any-host', [prefix('/')]),
    httpRoute('wildcard', [prefix('/')], { hostnames: ['*.example.com'] }),
    httpRoute('deep-wildcard', [prefix('/')], { hostnames: ['*.books.example.com'] }),
    httpRoute('exact', [prefix('/')], { hostnames: ['books.example.com'] }),
  ];

  it('prefers an exact host, then the longest wildcard, then a route without host names', () => {
    expect(select(routes, request('/', { host: 'books.example.com' }))).toBe('exact#0');
    expect(select(routes, request('/', { host: 'Books.Example.COM:8080' }))).toBe('exact#0');
    expect(select(routes, request('/', { host: 'books.example.com.' }))).toBe('exact#0');
    expect(select(routes, request('/', { host: 'new.books.example.com' }))).toBe('deep-wildcard#0');
    expect(select(routes, request('/', { host: 'music.example.com' }))).toBe('wildcard#0');
    expect(select(routes, request('/', { host: 'example.com' }))).toBe('any-host#0');
    expect(select(routes, request('/', { host: '[::1]:8080' }))).toBe('any-host#0');
    expect(select(routes, request('/'))).toBe('any-host#0');
  });

  it('puts the host before the path: a more specific host wins over a more specific path', () => {
    const mixed = [httpRoute('exact-path', [exact('/books')]), httpRoute('host', [prefix('/')], { hostnames: ['*.example.com'] })];
    expect(select(mixed, request('/books', { host: 'a.example.com' }))).toBe('host#0');
    expect(select(mixed, request('/books', { host: 'other.org' }))).toBe('exact-path#0');
  });

  it('never applies a route with host names to a request for another host or without a host', () => {
    const only = [routes[3] as HttpRoute];
    expect(select(only, request('/', { host: 'music.example.com' }))).toBeUndefined();
    expect(select(only, request('/'))).toBeUndefined();
  });
});

describe('selectHttpRoute: precedence', () => {
  it('orders Exact, then the longest PathPrefix, then PathPrefix over RegularExpression', () => {
    const routes = [
      httpRoute('regex-long', [regex('/books/[0-9]+/reviews|/books/.*')]),
      httpRoute('regex', [regex('/books/.*')]),
      httpRoute('root', [prefix('/')]),
      httpRoute('books', [prefix('/books')]),
      httpRoute('reviews', [prefix('/books/12/reviews')]),
      httpRoute('exact', [exact('/books/12/reviews')]),
    ];
    expect(select(routes, request('/books/12/reviews'))).toBe('exact#0');
    expect(select(routes, request('/books/12/reviews/1'))).toBe('reviews#0');
    expect(select(routes, request('/books/12'))).toBe('books#0');
    expect(select(routes.slice(0, 3), request('/books/12'))).toBe('root#0');
    expect(select(routes.slice(0, 2), request('/books/12'))).toBe('regex-long#0');
  });

  it('then a method match, then more header matches, then more query matches', () => {
    const h = (name: string): HttpHeaderMatch => ({ type: 'Exact', name, value: '1' });
    const q = (name: string): HttpQueryParamMatch => ({ type: 'Exact', name, value: '1' });
    const routes = [
      httpRoute('query', [{ ...prefix('/a'), headers: [h('x')], queryParams: [q('a'), q('b')] }]),
      httpRoute('headers', [{ ...prefix('/a'), headers: [h('x'), h('y')] }]),
      httpRoute('method', [{ ...prefix('/a'), method: 'GET' }]),
      httpRoute('plain', [prefix('/a')]),
    ];
    const headers = { x: '1', y: '1' };
    expect(select(routes, request('/a?a=1&b=1', { headers }))).toBe('method#0');
    expect(select(routes.slice(0, 2), request('/a?a=1&b=1', { headers }))).toBe('headers#0');
    expect(select(routes.slice(0, 2), request('/a?a=1&b=1', { headers: { x: '1' } }))).toBe('query#0');
    expect(select(routes, request('/a', { method: 'POST' }))).toBe('plain#0');
  });

  it('breaks ties by the oldest route, then by "namespace/name", then by rule order', () => {
    const same = [prefix('/')];
    expect(select([httpRoute('a-young', same, { createdAtMs: 2 }), httpRoute('b-old', same, { createdAtMs: 1 })], request('/'))).toBe('b-old#0');
    expect(select([httpRoute('b', same, { namespace: 'a' }), httpRoute('a', same, { namespace: 'b' })], request('/'))).toBe('b#0');
    expect(select([httpRoute('b', same), httpRoute('a', same)], request('/'))).toBe('a#0');
    // Code-point order: upper case sorts before lower case, whatever the locale.
    expect(select([httpRoute('a', same), httpRoute('B', same)], request('/'))).toBe('B#0');
    const twoRules: HttpRoute = { ...httpRoute('r', []), rules: [{ matches: same, backends: [] }, { matches: same, backends: [] }] };
    expect(select([twoRules], request('/'))).toBe('r#0');
  });

  it('picks the most specific match across the rules of one route', () => {
    const rules: HttpRouteRule[] = [
      { matches: [prefix('/')], backends: [{ authority: 'web:80', weight: 1 }] },
      { matches: [prefix('/api'), exact('/health')], backends: [{ authority: 'api:80', weight: 1 }] },
    ];
    const compiled = unwrap(compileHttpRoutes([{ ...httpRoute('site', []), rules }]));
    expect(selectHttpRoute(compiled, request('/health'))).toEqual({ route: expect.objectContaining({ name: 'site' }), rule: rules[1], ruleIndex: 1 });
    expect(selectHttpRoute(compiled, request('/api/x'))?.ruleIndex).toBe(1);
    expect(selectHttpRoute(compiled, request('/x'))?.ruleIndex).toBe(0);
  });

  it('selects nothing without routes', () => {
    expect(select([], request('/'))).toBeUndefined();
  });
});

describe('compileHttpRoutes', () => {
  it('reports the first bad route', () => {
    const result = compileHttpRoutes([httpRoute('good', [prefix('/')]), httpRoute('bad', [prefix('nope')]), httpRoute('worse', [regex('(')])]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidRouteError);
    expect(result.error.input).toBe('shop/bad');
    expect(result.error.message).toContain('"nope"');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties, over small pools of paths, hosts, headers and parameters so that matches and ties are frequent.

const PATHS = ['/', '/a', '/a/', '/a/b', '/a/b/c', '/ab', '/b'];
const REQUEST_PATHS = ['/', '/a', '/a/b', '/a/b/c', '/a/bc', '/ab', '/b', '/c'];
const REGEXES = ['/a.*', '/[ab]+', '/.*', '/a/b', '/(a|b)/.*'];
const HOSTS = ['a.example.com', 'b.example.com', 'example.com'];

const pathArb: fc.Arbitrary<HttpPathMatch> = fc.oneof(
  fc.record({ type: fc.constant('Exact' as const), value: fc.constantFrom(...PATHS) }),
  fc.record({ type: fc.constant('PathPrefix' as const), value: fc.constantFrom(...PATHS) }),
  fc.record({ type: fc.constant('RegularExpression' as const), value: fc.constantFrom(...REGEXES) }),
);
const headerArb: fc.Arbitrary<HttpHeaderMatch> = fc.record({
  type: fc.constantFrom('Exact' as const, 'RegularExpression' as const),
  name: fc.constantFrom('x-a', 'X-B'),
  value: fc.constantFrom('1', '2', '[12]'),
});
const queryArb: fc.Arbitrary<HttpQueryParamMatch> = fc.record({
  type: fc.constantFrom('Exact' as const, 'RegularExpression' as const),
  name: fc.constantFrom('p', 'q'),
  value: fc.constantFrom('1', '[0-9]'),
});
const matchArb: fc.Arbitrary<HttpRouteMatch> = fc.record(
  {
    path: pathArb,
    method: fc.constantFrom('GET', 'POST'),
    headers: fc.array(headerArb, { maxLength: 2 }),
    queryParams: fc.array(queryArb, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const ruleArb: fc.Arbitrary<HttpRouteRule> = fc.record({ matches: fc.array(matchArb, { maxLength: 3 }), backends: fc.constant([]) });
/** Routes with unique names (so every tie can be broken) and few distinct creation times (so ties happen). */
const routesArb: fc.Arbitrary<HttpRoute[]> = fc
  .array(
    fc.record({
      namespace: fc.constantFrom('ns1', 'ns2'),
      createdAtMs: fc.integer({ min: 0, max: 3 }),
      hostnames: fc.subarray(['a.example.com', '*.example.com']),
      rules: fc.array(ruleArb, { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 6 },
  )
  .map((bodies) => bodies.map((body, index) => ({ ...body, name: `r${index}` })));
const requestArb: fc.Arbitrary<HttpRouteRequest> = fc
  .record({
    host: fc.option(fc.constantFrom(...HOSTS), { nil: undefined }),
    method: fc.constantFrom('GET', 'POST'),
    path: fc.constantFrom(...REQUEST_PATHS),
    headers: fc.record({ 'x-a': fc.constantFrom('1', '2'), 'x-b': fc.constantFrom('1', '2') }, { requiredKeys: [] }),
    query: fc.record({ p: fc.constantFrom('1', 'x'), q: fc.constantFrom('1', '2') }, { requiredKeys: [] }),
  })
  .map(({ host, ...rest }) => (host === undefined ? rest : { ...rest, host }));

const label = (routes: readonly HttpRoute[], req: HttpRouteRequest) => {
  const selection = selectHttpRoute(unwrap(compileHttpRoutes(routes)), req);
  return selection && `${selection.route.namespace}/${selection.route.name}#${selection.ruleIndex}`;
};

// A plain, slow statement of the rules, written independently of the implementation, to compare against.
function referenceSelect(routes: readonly HttpRoute[], req: HttpRouteRequest): string | undefined {
  const host = req.host?.toLowerCase();
  // Host ranks as single numbers: exact 2000 + length, wildcard 1000 + suffix length, no host names 0.
  const hostRank = (route: HttpRoute): number | undefined => {
    if (route.hostnames.length === 0) return 0;
    const ranks = route.hostnames.flatMap((name) => {
      if (name === host) return [2_000 + name.length];
      if (name.startsWith('*.') && host?.endsWith(name.slice(1)) && host.length > name.length - 1) return [1_000 + name.length - 1];
      return [];
    });
    return ranks.length === 0 ? undefined : Math.max(...ranks);
  };
  const pathHolds = (p: HttpPathMatch) =>
    p.type === 'Exact'
      ? req.path === p.value
      : p.type === 'RegularExpression'
        ? new RegExp(`^(?:${p.value})$`).test(req.path)
        : p.value === '/' || req.path === p.value.replace(/\/$/, '') || req.path.startsWith(p.value.replace(/\/$/, '') + '/');
  const header = (name: string) => (req.headers as Record<string, string>)[name.toLowerCase()];
  const param = (name: string) => (req.query as Record<string, string> | undefined)?.[name];
  const valueHolds = (m: { type: string; value: string }, actual: string | undefined) =>
    actual !== undefined && (m.type === 'Exact' ? actual === m.value : new RegExp(`^(?:${m.value})$`).test(actual));
  const candidates: { key: number[]; name: string; label: string }[] = [];
  routes.forEach((route) => {
    const rank = hostRank(route);
    if (rank === undefined) return;
    route.rules.forEach((rule, ruleIndex) => {
      for (const m of rule.matches.length === 0 ? [{}] : rule.matches) {
        const path = (m as HttpRouteMatch).path ?? { type: 'PathPrefix', value: '/' };
        const { method, headers = [], queryParams = [] } = m as HttpRouteMatch;
        const firstHeaders = headers.filter((h, i) => headers.findIndex((o) => o.name.toLowerCase() === h.name.toLowerCase()) === i);
        const firstParams = queryParams.filter((q, i) => queryParams.findIndex((o) => o.name === q.name) === i);
        const holds =
          pathHolds(path) &&
          (method === undefined || method === req.method) &&
          firstHeaders.every((h) => valueHolds(h, header(h.name))) &&
          firstParams.every((q) => valueHolds(q, param(q.name)));
        if (!holds) continue;
        const kind = { Exact: 3, PathPrefix: 2, RegularExpression: 1 }[path.type];
        const length = path.type === 'PathPrefix' ? path.value.replace(/\/$/, '').length : path.value.length;
        candidates.push({
          key: [rank, kind, length, method === undefined ? 0 : 1, firstHeaders.length, firstParams.length, -route.createdAtMs],
          name: `${route.namespace}/${route.name}`,
          label: `${route.namespace}/${route.name}#${ruleIndex}`,
        });
      }
    });
  });
  candidates.sort((a, b) => {
    const differs = a.key.findIndex((value, i) => value !== b.key[i]);
    if (differs >= 0) return (b.key[differs] ?? 0) - (a.key[differs] ?? 0);
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  return candidates[0]?.label;
}

describe('selectHttpRoute properties', () => {
  it('agrees with a plain statement of the Gateway API precedence rules', () => {
    fc.assert(fc.property(routesArb, requestArb, (routes, req) => {
        expect(label(routes, req)).toBe(referenceSelect(routes, req));
      }),
      {
      numRuns: 500,
    });
  });

  it('keeps its selection when a less specific route is added (and falls back to it when nothing else matches)', () => {
    const catchAll: HttpRoute = { name: 'zz-catch-all', namespace: 'zz', createdAtMs: 100, hostnames: [], rules: [{ matches: [regex('.*')], backends: [] }] };
    fc.assert(
      fc.property(routesArb, requestArb, (routes, req) => {
        const before = label(routes, req);
        expect(label([...routes, catchAll], req)).toBe(before ?? 'zz/zz-catch-all#0');
        expect(label([catchAll, ...routes], req)).toBe(before ?? 'zz/zz-catch-all#0');
      }),
    );
  });

  it('keeps its selection when a newer copy of the selected route is added', () => {
    fc.assert(
      fc.property(routesArb, requestArb, (routes, req) => {
        const selection = selectHttpRoute(unwrap(compileHttpRoutes(routes)), req);
        fc.pre(selection !== undefined);
        if (selection === undefined) return;
        const copy = { ...selection.route, name: 'copy', createdAtMs: 100 };
        expect(label([copy, ...routes], req)).toBe(label(routes, req));
      }),
    );
  });

  it('lets an Exact path match win over every prefix and regular expression for the same host', () => {
    fc.assert(
      fc.property(routesArb, requestArb, (routes, req) => {
        const exactRoute: HttpRoute = {
          name: 'zz-exact',
          namespace: 'zz',
          createdAtMs: 100,
          hostnames: req.host === undefined ? [] : [req.host],
          rules: [{ matches: [exact(req.path)], backends: [] }],
        };
        const selection = selectHttpRoute(unwrap(compileHttpRoutes([...routes, exactRoute])), req);
        const winning = selection?.rule.matches.some((m) => m.path?.type === 'Exact' && m.path.value === req.path);
        expect(winning).toBe(true);
      }),
    );
  });

  it('does not depend on the order in which routes are given', () => {
    fc.assert(
      fc.property(
        routesArb.chain((routes) => fc.tuple(fc.constant(routes), fc.shuffledSubarray(routes, { minLength: routes.length }))),
        requestArb,
        ([routes, shuffled], req) => {
          expect(label(shuffled, req)).toBe(label(routes, req));
        },
      ),
    );
  });
});
