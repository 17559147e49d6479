// HttpRoute: Gateway API HTTPRoute rules (path, header, query and method matches, weighted backends), checked and compiled.
import { parseAuthority } from '../discovery/authority.js';
import { isHttpToken } from '../shared/http-token.js';
import { err, ok, type Result } from '../shared/result.js';
import { compileFullMatchRegex } from './full-match-regex.js';
import { httpRouteShapeProblem } from './http-route-shape.js';
import { InvalidRouteError } from './invalid-route-error.js';
import { describeValue, isRecord, isWholeNumber } from './untyped-value.js';

export interface HttpPathMatch {
  /**
   * Exact: the whole path. PathPrefix: whole path elements, so "/foo" matches "/foo" and "/foo/bar" but not
   * "/foobar" (a trailing "/" in the value is ignored). RegularExpression: the pattern matches the whole path.
   */
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
}

/** A header (name compared without case) whose value must equal `value` or fully match it as a regular expression. */
export interface HttpHeaderMatch {
  readonly type: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

/** A query parameter (name compared with case) whose first value must equal `value` or fully match it. */
export interface HttpQueryParamMatch {
  readonly type: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

/** All the given conditions must hold; a match without `path` is PathPrefix "/". */
export interface HttpRouteMatch {
  readonly path?: HttpPathMatch;
  readonly headers?: readonly HttpHeaderMatch[];
  /** An HTTP method such as "GET"; compared in upper case. */
  readonly method?: string;
  readonly queryParams?: readonly HttpQueryParamMatch[];
}

/** A backend and its share of the rule's traffic (weight / sum of weights; 0 = none). */
export interface WeightedBackend {
  readonly authority: string;
  readonly weight: number;
}

export interface HttpRouteTimeouts {
  /** The whole request, retries included; 0 or unset means none. */
  readonly requestMs?: number;
  /** One attempt to a backend; 0 or unset means none; at most `requestMs`. */
  readonly backendRequestMs?: number;
}

export interface HttpRouteRetry {
  /** Retries per request, e.g. 1. */
  readonly limit: number;
  /** Statuses that are retried, as Linkerd's retry.linkerd.io/http: "5xx", "gateway-error" (502-504), "503", "500-504". */
  readonly conditions: readonly string[];
}

export interface HttpRouteRule {
  /** Any of these selects the rule; an empty list matches every request (one PathPrefix "/" match). */
  readonly matches: readonly HttpRouteMatch[];
  readonly backends: readonly WeightedBackend[];
  readonly timeouts?: HttpRouteTimeouts;
  readonly retry?: HttpRouteRetry;
}

export interface HttpRoute {
  readonly name: string;
  readonly namespace: string;
  /** Creation time; among equally specific matches the oldest route wins. */
  readonly createdAtMs: number;
  /** Host names ("books.example.com") or wildcards ("*.example.com") the route serves; empty = every host. */
  readonly hostnames: readonly string[];
  readonly rules: readonly HttpRouteRule[];
}

/** A request as the route matcher sees it: host without port, method in upper case, path without query. */
export interface HttpRequestView {
  readonly host: string | undefined;
  readonly method: string;
  readonly path: string;
  /** The value of a header (`name` in lower case), repeated values joined with ", ". */
  header(name: string): string | undefined;
  /** The first value of a query parameter. */
  queryParam(name: string): string | undefined;
}

/** How specific one match is, compared field by field (higher wins) by the Gateway API precedence rules. */
export interface HttpMatchSpecificity {
  /** 3 Exact, 2 PathPrefix, 1 RegularExpression. */
  readonly pathKind: 1 | 2 | 3;
  /** Characters of the prefix (without a trailing "/") or of the regular expression. */
  readonly pathLength: number;
  readonly hasMethod: boolean;
  readonly headerCount: number;
  readonly queryParamCount: number;
}

export interface CompiledHttpRouteMatch {
  readonly ruleIndex: number;
  readonly specificity: HttpMatchSpecificity;
  matches(request: HttpRequestView): boolean;
}

/** A host name the route serves: exact, or every name under a suffix ("*.example.com" -> ".example.com"). */
export type CompiledHostname = { readonly exact: string } | { readonly suffix: string };

export interface CompiledHttpRoute {
  readonly route: HttpRoute;
  /** "namespace/name", the tie-breaker between routes. */
  readonly key: string;
  readonly hostnames: readonly CompiledHostname[];
  /** One entry per match of every rule, in rule order. */
  readonly matches: readonly CompiledHttpRouteMatch[];
}

const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_BACKEND_WEIGHT = 1_000_000;
const DEFAULT_PATH: HttpPathMatch = { type: 'PathPrefix', value: '/' };
const DEFAULT_MATCH: HttpRouteMatch = { path: DEFAULT_PATH };

/**
 * Checks one route and compiles its matches; errors name the route ("namespace/name") and the field. Routes arrive
 * from files and the wire, so every field's type is checked too and nothing here throws on malformed input.
 */
export function compileHttpRoute(route: HttpRoute): Result<CompiledHttpRoute, InvalidRouteError> {
  if (!isRecord(route)) return err(new InvalidRouteError('', `the route is ${describeValue(route)}, not an object`));
  const key = routeKey(route);
  const fail = (reason: string) => err(new InvalidRouteError(key, reason));
  const shape = httpRouteShapeProblem(route);
  if (shape !== undefined) return fail(shape);
  if (route.name.trim() === '') return fail('has an empty name; give the route a name such as "books"');
  if (!(typeof route.createdAtMs === 'number' && Number.isFinite(route.createdAtMs))) {
    return fail(`createdAtMs ${describeValue(route.createdAtMs)} is not a time in ms since the epoch`);
  }
  const hostnames: CompiledHostname[] = [];
  for (const [index, hostname] of route.hostnames.entries()) {
    const lower = hostname.toLowerCase().replace(/\.$/, '');
    if (!HOSTNAME.test(lower)) {
      return fail(`hostnames[${index}] ${JSON.stringify(hostname)} is not a host name; write e.g. "books.example.com" or "*.example.com"`);
    }
    hostnames.push(lower.startsWith('*.') ? { suffix: lower.slice(1) } : { exact: lower });
  }
  const matches: CompiledHttpRouteMatch[] = [];
  for (const [ruleIndex, rule] of route.rules.entries()) {
    const at = `rules[${ruleIndex}]`;
    const problem = ruleProblem(rule, at);
    if (problem) return fail(problem);
    const ruleMatches = rule.matches.length === 0 ? [DEFAULT_MATCH] : rule.matches;
    for (const [matchIndex, match] of ruleMatches.entries()) {
      const compiled = compileMatch(match, ruleIndex, `${at}.matches[${matchIndex}]`);
      if (typeof compiled === 'string') return fail(compiled);
      matches.push(compiled);
    }
  }
  return ok({ route, key, hostnames, matches });
}

/** "namespace/name", or the name alone without a namespace; whatever of them is text. */
function routeKey(route: Readonly<Record<string, unknown>>): string {
  const name = typeof route['name'] === 'string' ? route['name'] : '';
  const namespace = typeof route['namespace'] === 'string' ? route['namespace'] : '';
  return namespace === '' ? name : `${namespace}/${name}`;
}

/**
 * Whether `status` is retried under Linkerd-style conditions: "5xx", "gateway-error" (502..504), "NNN" or "NNN-MMM".
 * Conditions that cannot be read are ignored here; compileHttpRoute refuses them.
 */
export function isRetryableHttpStatus(conditions: readonly string[], status: number): boolean {
  return conditions.some((condition) => {
    const range = parseRetryCondition(condition);
    return range !== undefined && status >= range.min && status <= range.max;
  });
}

function parseRetryCondition(condition: string): { min: number; max: number } | undefined {
  const text = condition.trim().toLowerCase();
  if (text === '5xx') return { min: 500, max: 599 };
  if (text === 'gateway-error') return { min: 502, max: 504 };
  const range = /^(\d{3})(?:-(\d{3}))?$/.exec(text);
  if (!range) return undefined;
  const min = Number(range[1]);
  const max = range[2] === undefined ? min : Number(range[2]);
  return min >= 100 && max <= 599 && min <= max ? { min, max } : undefined;
}

function ruleProblem(rule: HttpRouteRule, at: string): string | undefined {
  for (const [index, backend] of rule.backends.entries()) {
    if (backend.authority.trim() === '') {
      return `${at}.backends[${index}] has an empty authority; write e.g. "books.library.svc.cluster.local:8080"`;
    }
    const authority = parseAuthority(backend.authority);
    if (!authority.ok) return `${at}.backends[${index}] authority ${JSON.stringify(backend.authority)} ${authority.error.reason}`;
    if (!isWholeNumber(backend.weight, MAX_BACKEND_WEIGHT)) {
      return `${at}.backends[${index}] weight ${describeValue(backend.weight)} is not a whole number from 0 to ${MAX_BACKEND_WEIGHT}; write e.g. 1`;
    }
  }
  return timeoutsProblem(rule.timeouts, at) ?? retryProblem(rule.retry, at);
}

function timeoutsProblem(timeouts: HttpRouteTimeouts | undefined, at: string): string | undefined {
  if (timeouts === undefined) return undefined;
  const { requestMs, backendRequestMs } = timeouts;
  for (const [field, value] of [['requestMs', requestMs], ['backendRequestMs', backendRequestMs]] as const) {
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
      return `${at}.timeouts.${field} ${describeValue(value)} is not a duration >= 0; write e.g. 10s, or 0 for none`;
    }
  }
  if (requestMs !== undefined && backendRequestMs !== undefined && requestMs > 0 && backendRequestMs > requestMs) {
    return `${at}.timeouts.backendRequestMs ${backendRequestMs} is longer than requestMs ${requestMs}; one attempt cannot outlast the whole request`;
  }
  return undefined;
}

function retryProblem(retry: HttpRouteRetry | undefined, at: string): string | undefined {
  if (retry === undefined) return undefined;
  if (!isWholeNumber(retry.limit)) {
    return `${at}.retry.limit ${describeValue(retry.limit)} is not a whole number >= 0; write e.g. 1`;
  }
  const bad = retry.conditions.find((condition) => parseRetryCondition(condition) === undefined);
  if (bad !== undefined) {
    return `${at}.retry.conditions ${JSON.stringify(bad)} is not a retry condition; write "5xx", "gateway-error", a status such as "503" or a range such as "500-504"`;
  }
  return undefined;
}

type Test = (request: HttpRequestView) => boolean;

/** Compiles one match into a predicate and its specificity, or returns what is wrong with it. */
function compileMatch(match: HttpRouteMatch, ruleIndex: number, at: string): CompiledHttpRouteMatch | string {
  const tests: Test[] = [];
  const path = compilePath(match.path ?? DEFAULT_PATH, `${at}.path`);
  if (typeof path === 'string') return path;
  tests.push(path.test);
  let method: string | undefined;
  if (match.method !== undefined) {
    // Checked before upper-casing: "ſ".toUpperCase() is "S", which would turn a non-token into one.
    if (!isHttpToken(match.method)) return `${at}.method ${JSON.stringify(match.method)} is not an HTTP method; write e.g. "GET"`;
    method = match.method.toUpperCase();
    const expected = method;
    tests.push((request) => request.method === expected);
  }
  const headers = compileValueMatches(match.headers ?? [], `${at}.headers`, (name) => name.toLowerCase(), (r, n) => r.header(n));
  if (typeof headers === 'string') return headers;
  const query = compileValueMatches(match.queryParams ?? [], `${at}.queryParams`, (name) => name, (r, n) => r.queryParam(n));
  if (typeof query === 'string') return query;
  tests.push(...headers.tests, ...query.tests);
  return {
    ruleIndex,
    specificity: {
      pathKind: path.kind,
      pathLength: path.length,
      hasMethod: method !== undefined,
      headerCount: headers.count,
      queryParamCount: query.count,
    },
    matches: (request) => tests.every((test) => test(request)),
  };
}

function compilePath(path: HttpPathMatch, at: string): { kind: 1 | 2 | 3; length: number; test: Test } | string {
  if (path.type === 'RegularExpression') {
    const regex = compileFullMatchRegex(path.value);
    if (!regex.ok) return `${at}.value ${JSON.stringify(path.value)} ${regex.error.reason}`;
    return { kind: 1, length: path.value.length, test: (request) => regex.value.test(request.path) };
  }
  if (!path.value.startsWith('/') || /[\s?#]/.test(path.value)) {
    return `${at}.value ${JSON.stringify(path.value)} is not an absolute path; write a path starting with "/" and without spaces, "?" or "#", e.g. "/books"`;
  }
  if (path.type === 'Exact') {
    const value = path.value;
    return { kind: 3, length: value.length, test: (request) => request.path === value };
  }
  if (path.type === 'PathPrefix') {
    const prefix = path.value.replace(/\/+$/, '');
    const test: Test = (request) =>
      request.path === prefix || (request.path.startsWith(prefix) && request.path.charAt(prefix.length) === '/');
    return { kind: 2, length: prefix.length, test };
  }
  return `${at}.type ${JSON.stringify(path.type)} is not a path match type; write "Exact", "PathPrefix" or "RegularExpression"`;
}

type ValueMatch = HttpHeaderMatch | HttpQueryParamMatch;

/** Header and query-parameter matches; only the first entry for a name counts, as the Gateway API requires. */
function compileValueMatches(
  entries: readonly ValueMatch[],
  at: string,
  normalizeName: (name: string) => string,
  read: (request: HttpRequestView, name: string) => string | undefined,
): { tests: Test[]; count: number } | string {
  const tests: Test[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    if (!isHttpToken(entry.name)) {
      return `${at}[${index}].name ${JSON.stringify(entry.name)} is not a valid name; use letters, digits and -._~!#$%&'*+^\`|, e.g. "x-canary"`;
    }
    const name = normalizeName(entry.name);
    if (seen.has(name)) continue;
    seen.add(name);
    const value = compileValueTest(entry, `${at}[${index}]`);
    if (typeof value === 'string') return value;
    tests.push((request) => {
      const actual = read(request, name);
      return actual !== undefined && value(actual);
    });
  }
  return { tests, count: seen.size };
}

function compileValueTest(entry: ValueMatch, at: string): ((actual: string) => boolean) | string {
  if (entry.type === 'Exact') return (actual) => actual === entry.value;
  if (entry.type === 'RegularExpression') {
    const regex = compileFullMatchRegex(entry.value);
    if (!regex.ok) return `${at}.value ${JSON.stringify(entry.value)} ${regex.error.reason}`;
    return (actual) => regex.value.test(actual);
  }
  return `${at}.type ${JSON.stringify(entry.type)} is not a match type; write "Exact" or "RegularExpression"`;
}
