// Inbound HTTP routes of a Server: checked and matched with the routing context's Gateway API matcher.
import type { HttpRouteMatch } from '../routing/http-route.js';
import type { InvalidRouteError } from '../routing/invalid-route-error.js';
import { compileHttpRoutes, selectHttpRoute, type CompiledHttpRoutes } from '../routing/route-matcher.js';
import { ok, type Result } from '../shared/result.js';

/** An HTTPRoute whose parent is a Server: a class of requests to which route-level policies can be attached. */
export interface PolicyHttpRoute {
  readonly name: string;
  readonly namespace: string;
  /** The Servers (of the route's namespace) the route attaches to. */
  readonly parentRefs: readonly { readonly kind: 'Server'; readonly name: string }[];
  /** The route applies when any match holds; no matches means every request. Same conditions as outbound routes. */
  readonly matches: readonly HttpRouteMatch[];
}

/** Request headers as Node gives them: names in any case, a value or a list of values. */
export type PolicyRequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The parts of an HTTP request that inbound route matching looks at. */
export interface PolicyHttpRequest {
  readonly method: string;
  /** The request target's path, possibly with a "?query" (read by query parameter conditions). */
  readonly path: string;
  readonly headers?: PolicyRequestHeaders;
}

type RouteLike = { readonly name: string; readonly matches: readonly HttpRouteMatch[] };

/** Routes ready for matching; built once per list of routes. */
export interface CompiledInboundHttpRoutes<R> {
  readonly compiled: CompiledHttpRoutes;
  /** The route each compiled route stands for. */
  readonly origins: ReadonlyMap<object, R>;
}

/**
 * Checks the conditions of routes (absolute paths, regular expressions that compile, header names, methods)
 * and prepares them for selectInboundHttpRoute. The error names the route and the bad field.
 */
export function compileInboundHttpRoutes<R extends RouteLike>(
  routes: readonly R[],
): Result<CompiledInboundHttpRoutes<R>, InvalidRouteError> {
  // Inbound routes have no host names and no backends: each is one rule. Creation order is list order, so on
  // equally specific matches the route listed first wins.
  const asRoutes = routes.map((route, index) => ({
    name: route.name,
    namespace: '',
    createdAtMs: index,
    hostnames: [],
    rules: [{ matches: route.matches, backends: [] }],
  }));
  const compiled = compileHttpRoutes(asRoutes);
  if (!compiled.ok) return compiled;
  const origins = new Map<object, R>(asRoutes.map((asRoute, index) => [asRoute, routes[index] as R]));
  return ok({ compiled: compiled.value, origins });
}

/**
 * The route serving a request, or undefined when none matches. Among matching routes the most specific wins, as
 * for outbound routes: an exact path over a prefix (longer first) over a regular expression, then a method
 * condition, then more header and query conditions, then the route listed first.
 */
export function selectInboundHttpRoute<R>(
  routes: CompiledInboundHttpRoutes<R>,
  request: PolicyHttpRequest,
): R | undefined {
  const selection = selectHttpRoute(routes.compiled, {
    method: request.method,
    path: request.path,
    headers: request.headers ?? {},
  });
  return selection === undefined ? undefined : routes.origins.get(selection.route);
}
