import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAuthority } from '../discovery/authority.js';
import { compileHttpRoute, type HttpRoute, type HttpRouteRule, isRetryableHttpStatus } from './http-route.js';
import { InvalidRouteError } from './invalid-route-error.js';

const rule: HttpRouteRule = {
  matches: [
    {
      path: { type: 'PathPrefix', value: '/books' },
      method: 'get',
      headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }],
      queryParams: [{ type: 'RegularExpression', name: 'page', value: '[0-9]+' }],
    },
  ],
  backends: [
    { authority: 'books-v1.library.svc.cluster.local:8080', weight: 90 },
    { authority: 'books-v2.library.svc.cluster.local:8080', weight: 10 },
  ],
  timeouts: { requestMs: 10_000, backendRequestMs: 2_000 },
  retry: { limit: 2, conditions: ['5xx', 'gateway-error', '429', '500-504'] },
};

const route: HttpRoute = {
  name: 'books',
  namespace: 'library',
  createdAtMs: 1_700_000_000_000,
  hostnames: ['Books.Example.com.', '*.example.com'],
  rules: [rule, { matches: [], backends: [] }],
};

function refusal(change: Partial<HttpRoute> = {}, ruleChange: Partial<HttpRouteRule> = {}): InvalidRouteError {
  const result = compileHttpRoute({ ...route, rules: [{ ...rule, ...ruleChange }], ...change });
  if (result.ok) throw new Error('accepted');
  expect(result.error).toBeInstanceOf(InvalidRouteError);
  return result.error;
}

describe('compileHttpRoute', () => {
  it('compiles every match of every rule, an empty match list as one match of everything', () => {
    const result = compileHttpRoute(route);
    if (!result.ok) throw result.error;
    const compiled = result.value;
    expect(compiled.key).toBe('library/books');
    expect(compiled.hostnames).toEqual([{ exact: 'books.example.com' }, { suffix: '.example.com' }]);
    expect(compiled.matches.map((m) => m.ruleIndex)).toEqual([0, 1]);
    expect(compiled.matches[0]?.specificity).toEqual({
      pathKind: 2,
      pathLength: 6,
      hasMethod: true,
      headerCount: 1,
      queryParamCount: 1,
    });
    expect(compiled.matches[1]?.specificity).toEqual({
      pathKind: 2,
      pathLength: 0,
      hasMethod: false,
      headerCount: 0,
      queryParamCount: 0,
    });
  });

  it('counts a repeated header name once, as only its first entry is used', () => {
    const result = compileHttpRoute({
      ...route,
      rules: [
        {
          matches: [
            {
              headers: [
                { type: 'Exact', name: 'x-a', value: '1' },
                { type: 'Exact', name: 'X-A', value: '2' },
              ],
            },
          ],
          backends: [],
        },
      ],
    });
    if (!result.ok) throw result.error;
    expect(result.value.matches[0]?.specificity.headerCount).toBe(1);
  });

  it('names the route without a namespace when it has none', () => {
    const error = refusal({ namespace: '' }, { backends: [{ authority: 'x:80', weight: -1 }] });
    expect(error.input).toBe('books');
  });

  it.each<[string, Partial<HttpRoute>, Partial<HttpRouteRule>, string]>([
    ['a relative path', {}, { matches: [{ path: { type: 'PathPrefix', value: 'books' } }] }, 'rules[0].matches[0].path.value "books" is not an absolute path'],
    ['a path with a query', {}, { matches: [{ path: { type: 'Exact', value: '/books?x=1' } }] }, 'path.value "/books?x=1"'],
    ['a bad path regex', {}, { matches: [{ path: { type: 'RegularExpression', value: '/books/(' } }] }, 'path.value "/books/(" is not a valid regular expression'],
    ['an unknown path type', {}, { matches: [{ path: { type: 'Prefix' as 'PathPrefix', value: '/' } }] }, 'path.type "Prefix"'],
    ['a header name with a space', {}, { matches: [{ headers: [{ type: 'Exact', name: 'x canary', value: '1' }] }] }, 'headers[0].name "x canary"'],
    ['a bad header regex', {}, { matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: '[' }] }] }, 'headers[0].value "["'],
    ['a bad query regex', {}, { matches: [{}, { queryParams: [{ type: 'RegularExpression', name: 'q', value: '*' }] }] }, 'rules[0].matches[1].queryParams[0].value "*"'],
    ['a method with a space', {}, { matches: [{ method: 'GE T' }] }, 'method "GE T"'],
    ['a negative weight', {}, { backends: [{ authority: 'a:80', weight: -1 }] }, 'rules[0].backends[0] weight -1'],
    ['a fractional weight', {}, { backends: [{ authority: 'a:80', weight: 0.5 }] }, 'weight 0.5'],
    ['a weight over 1000000', {}, { backends: [{ authority: 'a:80', weight: 1_000_001 }] }, 'weight 1000001'],
    ['an empty backend', {}, { backends: [{ authority: '', weight: 1 }] }, 'backends[0] has an empty authority'],
    ['a negative timeout', {}, { timeouts: { requestMs: -5 } }, 'timeouts.requestMs -5'],
    ['a backend timeout above the request timeout', {}, { timeouts: { requestMs: 1_000, backendRequestMs: 2_000 } }, 'backendRequestMs 2000 is longer than requestMs 1000'],
    ['a negative retry limit', {}, { retry: { limit: -1, conditions: [] } }, 'retry.limit -1'],
    ['an unknown retry condition', {}, { retry: { limit: 1, conditions: ['5xx', 'sometimes'] } }, 'retry.conditions "sometimes"'],
    ['a reversed retry range', {}, { retry: { limit: 1, conditions: ['504-500'] } }, 'retry.conditions "504-500"'],
    ['a bad host name', { hostnames: ['books_example.com'] }, {}, 'hostnames[0] "books_example.com"'],
    ['a bare wildcard', { hostnames: ['*'] }, {}, 'hostnames[0] "*"'],
    ['an empty name', { name: '' }, {}, 'has an empty name'],
  ])('refuses %s, naming the route and the field', (_what, change, ruleChange, expected) => {
    const error = refusal(change, ruleChange);
    if (change.name === undefined) expect(error.input).toBe('library/books');
    expect(error.toString()).toContain(`invalid route ${JSON.stringify(error.input)}: `);
    expect(error.message).toContain(expected);
  });

  it('accepts zero weights and zero (disabled) timeouts', () => {
    const result = compileHttpRoute({
      ...route,
      rules: [{ matches: [], backends: [{ authority: 'a:80', weight: 0 }], timeouts: { requestMs: 0, backendRequestMs: 500 } }],
    });
    expect(result.ok).toBe(true);
  });
});

describe('isRetryableHttpStatus', () => {
  it('reads 5xx, gateway-error, single statuses and ranges', () => {
    expect(isRetryableHttpStatus(['5xx'], 500)).toBe(true);
    expect(isRetryableHttpStatus(['5XX'], 599)).toBe(true);
    expect(isRetryableHttpStatus(['5xx'], 404)).toBe(false);
    expect(isRetryableHttpStatus(['gateway-error'], 503)).toBe(true);
    expect(isRetryableHttpStatus(['gateway-error'], 500)).toBe(false);
    expect(isRetryableHttpStatus(['429', '500-502'], 429)).toBe(true);
    expect(isRetryableHttpStatus(['429', '500-502'], 502)).toBe(true);
    expect(isRetryableHttpStatus(['429', '500-502'], 503)).toBe(false);
    expect(isRetryableHttpStatus([], 503)).toBe(false);
  });
});

describe('compileHttpRoute checks untyped input', () => {
  function untypedRefusal(value: unknown): InvalidRouteError {
    let result: ReturnType<typeof compileHttpRoute> | undefined;
    expect(() => (result = compileHttpRoute(value as HttpRoute))).not.toThrow();
    if (result === undefined || result.ok) throw new Error('accepted');
    expect(result.error).toBeInstanceOf(InvalidRouteError);
    return result.error;
  }
  const withRule = (ruleValue: unknown) => ({ ...route, rules: [ruleValue] });

  it.each(['books v1:8080', 'http://books-v1.library:8080', 'books-v1.library:0', 'books_v1.library:8080', '[::1:8080'])(
    'refuses the backend authority %j, naming the route and the value',
    (authority) => {
      const error = refusal({}, { backends: [{ authority, weight: 1 }] });
      expect(error.input).toBe('library/books');
      const parsed = parseAuthority(authority);
      if (parsed.ok) throw new Error('parseAuthority accepts it');
      expect(error.message).toContain(`rules[0].backends[0] authority ${JSON.stringify(authority)} ${parsed.error.reason}`);
    },
  );

  it('refuses a method that only upper-cases to a token ("poſt" would become "POST")', () => {
    expect(refusal({}, { matches: [{ method: 'poſt' }] }).message).toContain('method "poſt" is not an HTTP method');
  });

  it.each<[string, unknown, string]>([
    ['a route that is null', null, 'the route is null, not an object'],
    ['a name that is a number', { ...route, name: 5 }, 'name is 5, not text'],
    ['hostnames that are text', { ...route, hostnames: 'books.example.com' }, 'hostnames is "books.example.com", not a list'],
    ['a hostname that is a number', { ...route, hostnames: [5] }, 'hostnames[0] is 5, not text'],
    ['createdAtMs given as text', { ...route, createdAtMs: '1' }, 'createdAtMs "1" is not a time'],
    ['rules that are null', { ...route, rules: null }, 'rules is null, not a list'],
    ['a rule that is null', withRule(null), 'rules[0] is null, not an object'],
    ['matches that are missing', withRule({ backends: [] }), 'rules[0].matches is undefined, not a list'],
    ['a match that is a number', withRule({ matches: [1], backends: [] }), 'rules[0].matches[0] is 1, not an object'],
    ['a path value that is a number', withRule({ matches: [{ path: { type: 'Exact', value: 5 } }], backends: [] }), 'rules[0].matches[0].path.value is 5, not text'],
    ['a method that is a number', withRule({ matches: [{ method: 5 }], backends: [] }), 'rules[0].matches[0].method is 5, not text'],
    ['headers that are an object', withRule({ matches: [{ headers: {} }], backends: [] }), 'rules[0].matches[0].headers is an empty object, not a list'],
    ['a header name that is missing', withRule({ matches: [{ headers: [{ type: 'Exact', value: 'x' }] }], backends: [] }), 'headers[0].name is undefined, not text'],
    ['a query value that is null', withRule({ matches: [{ queryParams: [{ type: 'Exact', name: 'q', value: null }] }], backends: [] }), 'queryParams[0].value is null, not text'],
    ['a backend authority that is a number', withRule({ matches: [], backends: [{ authority: 5, weight: 1 }] }), 'rules[0].backends[0].authority is 5, not text'],
    ['a backend weight given as text', withRule({ matches: [], backends: [{ authority: 'a:80', weight: '1' }] }), 'rules[0].backends[0] weight "1" is not a whole number'],
    ['timeouts that are text', withRule({ matches: [], backends: [], timeouts: '10s' }), 'rules[0].timeouts is "10s", not an object'],
    ['a timeout given as text', withRule({ matches: [], backends: [], timeouts: { requestMs: '10' } }), 'rules[0].timeouts.requestMs "10" is not a duration'],
    ['retry conditions that are text', withRule({ matches: [], backends: [], retry: { limit: 1, conditions: '5xx' } }), 'rules[0].retry.conditions is "5xx", not a list'],
    ['a retry condition that is a number', withRule({ matches: [], backends: [], retry: { limit: 1, conditions: [503] } }), 'rules[0].retry.conditions[0] is 503, not text'],
    ['a retry limit given as text', withRule({ matches: [], backends: [], retry: { limit: '1', conditions: [] } }), 'rules[0].retry.limit "1" is not a whole number'],
  ])('refuses %s without throwing', (_what, value, expected) => {
    expect(untypedRefusal(value).message).toContain(expected);
  });

  it('never throws, whatever value stands for the route, a rule, a match or a backend (property)', () => {
    const anything = fc.anything({ maxDepth: 4 });
    fc.assert(
      fc.property(anything, anything, anything, anything, (routeValue, ruleValue, matchValue, backendValue) => {
        const candidates = [
          routeValue,
          withRule(ruleValue),
          withRule({ matches: [matchValue], backends: [] }),
          withRule({ matches: [], backends: [backendValue] }),
          { ...route, ...(typeof routeValue === 'object' ? routeValue : {}) },
        ];
        for (const candidate of candidates) expect(() => compileHttpRoute(candidate as HttpRoute)).not.toThrow();
      }),
    );
  });
});
