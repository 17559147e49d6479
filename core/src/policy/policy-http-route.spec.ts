import { describe, expect, it } from 'vitest';
import { compileInboundHttpRoutes, selectInboundHttpRoute } from './policy-http-route.js';
import { InvalidRouteError } from '../routing/invalid-route-error.js';
import { unwrap } from '../shared/result.js';

const routes = [
  { name: 'everything', matches: [] },
  { name: 'api', matches: [{ path: { type: 'PathPrefix', value: '/api' } }] },
  { name: 'api-admin', matches: [{ path: { type: 'PathPrefix', value: '/api/admin' } }] },
  { name: 'health', matches: [{ path: { type: 'Exact', value: '/healthz' }, method: 'GET' }] },
  { name: 'canary', matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'on' }] }] },
  { name: 'books', matches: [{ path: { type: 'RegularExpression', value: '/books/[0-9]+' } }] },
] as const;

describe('inbound HTTP routes', () => {
  const compiled = unwrap(compileInboundHttpRoutes(routes));
  const pick = (method: string, path: string, headers = {}) => selectInboundHttpRoute(compiled, { method, path, headers })?.name;

  it('picks the most specific matching route', () => {
    expect(pick('GET', '/healthz')).toBe('health');
    expect(pick('POST', '/healthz')).toBe('everything');
    expect(pick('GET', '/api/users?x=1')).toBe('api');
    expect(pick('GET', '/api/admin/x')).toBe('api-admin');
    expect(pick('GET', '/apix')).toBe('everything');
    expect(pick('GET', '/api/x', { 'x-canary': 'on' })).toBe('canary');
    // As for outbound routes (and Linkerd), a regular expression ranks below every prefix, even "/".
    expect(pick('GET', '/books/12')).toBe('everything');
  });

  it('matches regular expressions against the whole path', () => {
    const books = unwrap(compileInboundHttpRoutes([routes[5]]));
    expect(selectInboundHttpRoute(books, { method: 'GET', path: '/books/12' })?.name).toBe('books');
    expect(selectInboundHttpRoute(books, { method: 'GET', path: '/books/12/reviews' })).toBeUndefined();
  });

  it('matches nothing when no route admits the request', () => {
    const only = unwrap(compileInboundHttpRoutes([routes[3]]));
    expect(selectInboundHttpRoute(only, { method: 'GET', path: '/other' })).toBeUndefined();
    expect(selectInboundHttpRoute(only, { method: 'GET', path: '/healthz' })?.name).toBe('health');
  });

  it.each([
    [{ path: { type: 'PathPrefix', value: 'api' } }, 'not an absolute path'],
    [{ path: { type: 'RegularExpression', value: '/books/(' } }, 'not a valid regular expression'],
    [{ method: 'GE T' }, 'not an HTTP method'],
    [{ headers: [{ type: 'Exact', name: 'bad header', value: 'x' }] }, 'not a valid name'],
  ] as const)('refuses a bad condition %j naming the route', (match, words) => {
    const result = compileInboundHttpRoutes([{ name: 'broken', matches: [match] }]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidRouteError);
    expect(result.error.input).toBe('broken');
    expect(result.error.reason).toContain(words);
  });
});
