// Route selection: the HTTPRoute rule that serves a request, by the Gateway API precedence rules.
import { ok, type Result } from '../shared/result.js';
import {
  type CompiledHttpRoute,
  type CompiledHttpRouteMatch,
  compileHttpRoute,
  type HttpMatchSpecificity,
  type HttpRequestView,
  type HttpRoute,
  type HttpRouteRule,
} from './http-route.js';
import type { InvalidRouteError } from './invalid-route-error.js';

type Values = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface HttpRouteRequest {
  /** The Host header or :authority, with or without a port. */
  readonly host?: string;
  readonly method: string;
  /** The request target's path; a query string here is read when `query` is not given. */
  readonly path: string;
  /** Header names in any case (Node gives them in lower case). */
  readonly headers: Values;
  readonly query?: Values;
}

export interface HttpRouteSelection {
  readonly route: HttpRoute;
  readonly rule: HttpRouteRule;
  readonly ruleIndex: number;
}

/** One match of one rule of one route; selectHttpRoute walks these in order. */
export interface HttpRouteMatchEntry {
  readonly route: CompiledHttpRoute;
  readonly routeIndex: number;
  readonly match: CompiledHttpRouteMatch;
}

/** Routes compiled for selection: every (route, rule, match) in precedence order, host names aside. */
export interface CompiledHttpRoutes {
  readonly routes: readonly CompiledHttpRoute[];
  readonly entries: readonly HttpRouteMatchEntry[];
}

/** Checks and compiles a set of routes; the first bad route is reported. */
export function compileHttpRoutes(routes: readonly HttpRoute[]): Result<CompiledHttpRoutes, InvalidRouteError> {
  const compiled: CompiledHttpRoute[] = [];
  for (const route of routes) {
    const result = compileHttpRoute(route);
    if (!result.ok) return result;
    compiled.push(result.value);
  }
  const entries = compiled.flatMap((route, routeIndex) => route.matches.map((match) => ({ route, routeIndex, match })));
  entries.sort(compareEntries);
  return ok({ routes: compiled, entries });
}

/**
 * The rule that serves `request`, chosen among all matching (route, rule, match) triples by, in order:
 * 1. host name: an exact host beats a wildcard ("*.example.com", longer suffix first) beats a route without host names;
 * 2. path: Exact beats PathPrefix (more characters first) beats RegularExpression (longer pattern first). The Gateway
 *    API leaves the place of regular expressions to implementations; like Linkerd we rank them below every prefix;
 * 3. a method match; 4. more header matches; 5. more query-parameter matches;
 * 6. the oldest route; 7. "namespace/name" in alphabetical (code point) order; 8. the first rule of the route.
 * Undefined when no rule matches (the caller answers 404).
 */
export function selectHttpRoute(compiled: CompiledHttpRoutes, request: HttpRouteRequest): HttpRouteSelection | undefined {
  const view = requestView(request);
  const hostRanks = new Map<number, HostRank | undefined>();
  let best: HttpRouteMatchEntry | undefined;
  let bestHost: HostRank | undefined;
  for (const entry of compiled.entries) {
    if (!hostRanks.has(entry.routeIndex)) hostRanks.set(entry.routeIndex, hostRank(entry.route, view.host));
    const rank = hostRanks.get(entry.routeIndex);
    if (rank === undefined) continue;
    // Entries are sorted by everything but the host, so an earlier match keeps its place unless the host is better.
    if (bestHost !== undefined && compareHostRanks(rank, bestHost) <= 0) continue;
    if (!entry.match.matches(view)) continue;
    best = entry;
    bestHost = rank;
  }
  if (best === undefined) return undefined;
  const { route } = best.route;
  const ruleIndex = best.match.ruleIndex;
  return { route, rule: route.rules[ruleIndex] as HttpRouteRule, ruleIndex };
}

/** [kind, length]: kind 2 exact, 1 wildcard, 0 route without host names; length of the matched name or suffix. */
type HostRank = readonly [number, number];

function hostRank(route: CompiledHttpRoute, host: string | undefined): HostRank | undefined {
  if (route.hostnames.length === 0) return [0, 0];
  if (host === undefined) return undefined;
  let best: HostRank | undefined;
  for (const hostname of route.hostnames) {
    let rank: HostRank | undefined;
    if ('exact' in hostname) rank = hostname.exact === host ? [2, host.length] : undefined;
    else if (host.length > hostname.suffix.length && host.endsWith(hostname.suffix)) rank = [1, hostname.suffix.length];
    if (rank !== undefined && (best === undefined || compareHostRanks(rank, best) > 0)) best = rank;
  }
  return best;
}

function compareHostRanks(a: HostRank, b: HostRank): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Orders entries most specific first, then by the tie-breakers of the Gateway API. */
function compareEntries(a: HttpRouteMatchEntry, b: HttpRouteMatchEntry): number {
  return (
    compareSpecificity(b.match.specificity, a.match.specificity) ||
    a.route.route.createdAtMs - b.route.route.createdAtMs ||
    compareText(a.route.key, b.route.key) ||
    a.routeIndex - b.routeIndex ||
    a.match.ruleIndex - b.match.ruleIndex
  );
}

function compareSpecificity(a: HttpMatchSpecificity, b: HttpMatchSpecificity): number {
  return (
    a.pathKind - b.pathKind ||
    a.pathLength - b.pathLength ||
    Number(a.hasMethod) - Number(b.hasMethod) ||
    a.headerCount - b.headerCount ||
    a.queryParamCount - b.queryParamCount
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function requestView(request: HttpRouteRequest): HttpRequestView {
  const queryAt = request.path.indexOf('?');
  const path = queryAt < 0 ? request.path : request.path.slice(0, queryAt);
  const query = request.query ?? (queryAt < 0 ? {} : parseQuery(request.path.slice(queryAt + 1)));
  const { headers } = request;
  return {
    host: request.host === undefined ? undefined : hostWithoutPort(request.host),
    method: request.method.toUpperCase(),
    path,
    header: (name) => joined(Object.hasOwn(headers, name) ? headers[name] : findIgnoringCase(headers, name)),
    queryParam: (name) => (Object.hasOwn(query, name) ? first(query[name]) : undefined),
  };
}

function hostWithoutPort(host: string): string {
  const lower = host.toLowerCase();
  const withoutPort = lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : lower.replace(/:\d*$/, '');
  return withoutPort.replace(/\.$/, '');
}

function findIgnoringCase(values: Values, lowerName: string): string | readonly string[] | undefined {
  for (const key of Object.keys(values)) {
    if (key.toLowerCase() === lowerName) return values[key];
  }
  return undefined;
}

function joined(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(', ');
}

function first(value: string | readonly string[] | undefined): string | undefined {
  return value === undefined || typeof value === 'string' ? value : value[0];
}

/** Reads "a=1&b=x+y" into its first values, decoding %XX and "+". */
function parseQuery(text: string): Record<string, string> {
  // No prototype, so a parameter named "__proto__" is just a parameter.
  const params = Object.create(null) as Record<string, string>;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (!Object.hasOwn(params, name)) params[name] = decode(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return params;
}

function decode(text: string): string {
  const spaced = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
