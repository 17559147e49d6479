// ServiceProfile: Linkerd-style per-service routes (path regex, method), response classes, retry budget and traffic split.
import type { Authority } from '../discovery/authority.js';
import { err, ok, type Result } from '../shared/result.js';
import { compileFullMatchRegex } from './full-match-regex.js';
import { InvalidRouteError } from './invalid-route-error.js';
import { DEFAULT_RETRY_BUDGET, type InvalidRetryBudgetError, type RetryBudgetConfig, validateRetryBudget } from './retry-budget.js';

/** Which requests a route covers; `all: []` matches everything, `any: []` nothing. */
export type RequestMatch =
  | { readonly all: readonly RequestMatch[] }
  | { readonly any: readonly RequestMatch[] }
  | { readonly not: RequestMatch }
  /** A regular expression that must match the whole path (without the query string). */
  | { readonly pathRegex: string }
  /** An HTTP method such as "GET"; compared in upper case. */
  | { readonly method: string };

/** Which responses a class covers; `status` bounds are inclusive. */
export type ResponseMatch =
  | { readonly all: readonly ResponseMatch[] }
  | { readonly any: readonly ResponseMatch[] }
  | { readonly not: ResponseMatch }
  | { readonly status: { readonly min: number; readonly max: number } };

export interface ResponseClass {
  readonly condition: ResponseMatch;
  /** Whether responses of this class count as failures (for retries and success-rate metrics). */
  readonly isFailure: boolean;
}

export interface ProfileRoute {
  /** Shown in metrics and errors, e.g. "GET /books/{id}". */
  readonly name: string;
  readonly condition: RequestMatch;
  /** Checked in order, the first matching class decides; without a match a 5xx is a failure. */
  readonly responseClasses: readonly ResponseClass[];
  /** Whether failed requests on this route may be retried (within the profile's retry budget). */
  readonly isRetryable: boolean;
  /** Time allowed for the whole request including retries; unset means no route timeout. */
  readonly timeoutMs?: number;
}

/** A share of traffic sent to another authority; weights are relative to the sum of all weights. */
export interface WeightedDst {
  readonly authority: string;
  readonly weight: number;
}

export interface ServiceProfile {
  /** The service this profile describes, e.g. "books.library.svc.cluster.local". */
  readonly fullyQualifiedName: string;
  /** Checked in order; the first matching route applies. */
  readonly routes: readonly ProfileRoute[];
  readonly retryBudget: RetryBudgetConfig;
  /** When not empty, traffic is split across these authorities instead of going to the service itself. */
  readonly dstOverrides: readonly WeightedDst[];
  /** Whether the service's traffic is opaque TCP (no protocol detection). */
  readonly opaqueProtocol: boolean;
}

/** The request fields a profile route looks at. */
export interface ProfileRequest {
  readonly method: string;
  /** The request path; a query string ("?a=1"), if present, is ignored. */
  readonly path: string;
}

export interface CompiledResponseClass {
  readonly isFailure: boolean;
  matches(status: number): boolean;
}

export interface CompiledProfileRoute {
  readonly name: string;
  readonly isRetryable: boolean;
  readonly timeoutMs?: number;
  /** The route as it was configured. */
  readonly definition: ProfileRoute;
  readonly responseClasses: readonly CompiledResponseClass[];
  matches(request: ProfileRequest): boolean;
}

export interface CompiledServiceProfile {
  readonly profile: ServiceProfile;
  readonly routes: readonly CompiledProfileRoute[];
}

/** The profile of a service nobody configured: no routes, the default retry budget, no traffic split. */
export function defaultServiceProfile(fullyQualifiedName: string): ServiceProfile {
  return { fullyQualifiedName, routes: [], retryBudget: DEFAULT_RETRY_BUDGET, dstOverrides: [], opaqueProtocol: false };
}

/** The name a profile for `target` carries: the service's FQDN, the DNS host or the IP, without the port. */
export function serviceProfileName(target: Authority): string {
  switch (target.kind) {
    case 'service':
      return target.fqdn;
    case 'dns':
      return target.host;
    case 'ip':
      return target.ip;
  }
}

/**
 * Checks a profile and compiles its matchers. Refuses invalid path regexes, status ranges outside 100..599 or
 * with min > max, negative or fractional weights, negative timeouts, empty route names and bad retry budgets.
 */
export function compileServiceProfile(
  profile: ServiceProfile,
): Result<CompiledServiceProfile, InvalidRouteError | InvalidRetryBudgetError> {
  const budget = validateRetryBudget(profile.retryBudget);
  if (!budget.ok) return budget;
  const split = checkDstOverrides(profile.dstOverrides);
  if (split) return err(split);
  const routes: CompiledProfileRoute[] = [];
  for (const [index, route] of profile.routes.entries()) {
    const compiled = compileProfileRoute(route, index);
    if (!compiled.ok) return compiled;
    routes.push(compiled.value);
  }
  return ok({ profile, routes });
}

/** The first route whose condition matches the request, or undefined (no route-specific behaviour applies). */
export function matchProfileRoute(compiled: CompiledServiceProfile, request: ProfileRequest): CompiledProfileRoute | undefined {
  const normalized = { method: request.method.toUpperCase(), path: withoutQuery(request.path) };
  return compiled.routes.find((route) => route.matches(normalized));
}

/** Whether a response status counts as a failure on `route`: its first matching class decides, otherwise 5xx fails. */
export function isFailureResponse(route: CompiledProfileRoute | undefined, status: number): boolean {
  const responseClass = route?.responseClasses.find((candidate) => candidate.matches(status));
  return responseClass ? responseClass.isFailure : status >= 500 && status <= 599;
}

function withoutQuery(path: string): string {
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}

function checkDstOverrides(overrides: readonly WeightedDst[]): InvalidRouteError | undefined {
  for (const [index, dst] of overrides.entries()) {
    if (dst.authority.trim() === '') {
      return new InvalidRouteError(dst.authority, `dstOverrides[${index}] has an empty authority; write e.g. "books-v2.library.svc.cluster.local:8080"`);
    }
    if (!(Number.isInteger(dst.weight) && dst.weight >= 0)) {
      return new InvalidRouteError(dst.authority, `dstOverrides[${index}] weight ${dst.weight} is not a whole number >= 0; write e.g. 100`);
    }
  }
  return undefined;
}

type Compiled<T> = Result<T, InvalidRouteError>;

function compileProfileRoute(route: ProfileRoute, index: number): Compiled<CompiledProfileRoute> {
  if (route.name.trim() === '') {
    return err(new InvalidRouteError(route.name, `route #${index + 1} has an empty name; name it after what it matches, e.g. "GET /books/{id}"`));
  }
  const fail = (reason: string) => err(new InvalidRouteError(route.name, reason));
  if (route.timeoutMs !== undefined && !(route.timeoutMs >= 0)) {
    return fail(`timeout ${route.timeoutMs} ms is negative or not a number; write a duration such as 10s, or leave it out`);
  }
  const condition = compileRequestMatch(route.condition, fail);
  if (!condition.ok) return condition;
  const classes: CompiledResponseClass[] = [];
  for (const responseClass of route.responseClasses) {
    const matcher = compileResponseMatch(responseClass.condition, fail);
    if (!matcher.ok) return matcher;
    classes.push({ isFailure: responseClass.isFailure, matches: matcher.value });
  }
  return ok({
    name: route.name,
    isRetryable: route.isRetryable,
    ...(route.timeoutMs === undefined ? {} : { timeoutMs: route.timeoutMs }),
    definition: route,
    responseClasses: classes,
    matches: condition.value,
  });
}

type Fail = (reason: string) => Result<never, InvalidRouteError>;
type Predicate<T> = (value: T) => boolean;

function compileRequestMatch(match: RequestMatch, fail: Fail): Compiled<Predicate<ProfileRequest>> {
  if ('all' in match || 'any' in match) {
    const parts: Predicate<ProfileRequest>[] = [];
    for (const part of 'all' in match ? match.all : match.any) {
      const compiled = compileRequestMatch(part, fail);
      if (!compiled.ok) return compiled;
      parts.push(compiled.value);
    }
    return ok('all' in match ? (request) => parts.every((p) => p(request)) : (request) => parts.some((p) => p(request)));
  }
  if ('not' in match) {
    const inner = compileRequestMatch(match.not, fail);
    return inner.ok ? ok((request) => !inner.value(request)) : inner;
  }
  if ('pathRegex' in match) {
    const regex = compileFullMatchRegex(match.pathRegex);
    if (!regex.ok) return fail(`pathRegex ${JSON.stringify(match.pathRegex)} ${regex.error.reason}`);
    return ok((request) => regex.value.test(request.path));
  }
  if ('method' in match) {
    const method = match.method.toUpperCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Z]+$/.test(method)) {
      return fail(`method ${JSON.stringify(match.method)} is not an HTTP method; write e.g. "GET" or "POST"`);
    }
    return ok((request) => request.method === method);
  }
  return fail(`a condition has none of all, any, not, pathRegex or method: ${JSON.stringify(match)}`);
}

function compileResponseMatch(match: ResponseMatch, fail: Fail): Compiled<Predicate<number>> {
  if ('all' in match || 'any' in match) {
    const parts: Predicate<number>[] = [];
    for (const part of 'all' in match ? match.all : match.any) {
      const compiled = compileResponseMatch(part, fail);
      if (!compiled.ok) return compiled;
      parts.push(compiled.value);
    }
    return ok('all' in match ? (status) => parts.every((p) => p(status)) : (status) => parts.some((p) => p(status)));
  }
  if ('not' in match) {
    const inner = compileResponseMatch(match.not, fail);
    return inner.ok ? ok((status) => !inner.value(status)) : inner;
  }
  if ('status' in match) {
    const { min, max } = match.status;
    const valid = (code: number) => Number.isInteger(code) && code >= 100 && code <= 599;
    if (!valid(min) || !valid(max) || min > max) {
      return fail(`status range ${min}..${max} is not valid; write whole status codes from 100 to 599 with min <= max, e.g. 500..599`);
    }
    return ok((status) => status >= min && status <= max);
  }
  return fail(`a response condition has none of all, any, not or status: ${JSON.stringify(match)}`);
}
