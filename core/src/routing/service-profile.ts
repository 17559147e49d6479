// ServiceProfile: Linkerd-style per-service routes (path regex, method), response classes, retry budget and traffic split.
import { type Authority, parseAuthority } from '../discovery/authority.js';
import { isHttpToken } from '../shared/http-token.js';
import { err, ok, type Result } from '../shared/result.js';
import { compileFullMatchRegex } from './full-match-regex.js';
import { InvalidRouteError } from './invalid-route-error.js';
import { DEFAULT_RETRY_BUDGET, type InvalidRetryBudgetError, type RetryBudgetConfig, validateRetryBudget } from './retry-budget.js';
import { describeValue, isRecord, isWholeNumber } from './untyped-value.js';

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

/** Conditions nested deeper than this (all/any/not inside one another) are refused. */
export const MAX_CONDITION_DEPTH = 32;

/**
 * Checks a profile and compiles its matchers. Profiles arrive from files and the wire, so every field's type is
 * checked too and nothing here throws on malformed input. Refuses invalid or catastrophically backtracking path
 * regexes, methods that are not HTTP tokens, conditions that are not exactly one of their forms or are nested more
 * than MAX_CONDITION_DEPTH deep, status ranges outside 100..599 or with min > max, dstOverrides authorities that
 * parseAuthority refuses, negative or fractional weights, negative timeouts, empty route names and bad retry budgets.
 */
export function compileServiceProfile(
  profile: ServiceProfile,
): Result<CompiledServiceProfile, InvalidRouteError | InvalidRetryBudgetError> {
  const shape = profileShapeProblem(profile);
  if (shape) return err(shape);
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

/** The top-level fields; the error is named after the profile (its FQDN, when that is text). */
function profileShapeProblem(profile: unknown): InvalidRouteError | undefined {
  if (!isRecord(profile)) return new InvalidRouteError('', `the profile is ${describeValue(profile)}, not an object`);
  const name = typeof profile['fullyQualifiedName'] === 'string' ? profile['fullyQualifiedName'] : '';
  const fail = (reason: string) => new InvalidRouteError(name, reason);
  if (typeof profile['fullyQualifiedName'] !== 'string' || name === '') {
    return fail(`fullyQualifiedName ${describeValue(profile['fullyQualifiedName'])} is not a name; write e.g. "books.library.svc.cluster.local"`);
  }
  if (!Array.isArray(profile['routes'])) return fail(`routes is ${describeValue(profile['routes'])}, not a list`);
  if (!Array.isArray(profile['dstOverrides'])) return fail(`dstOverrides is ${describeValue(profile['dstOverrides'])}, not a list`);
  if (typeof profile['opaqueProtocol'] !== 'boolean') return fail(`opaqueProtocol is ${describeValue(profile['opaqueProtocol'])}, not true or false`);
  return undefined;
}

function checkDstOverrides(overrides: readonly unknown[]): InvalidRouteError | undefined {
  for (const [index, dst] of overrides.entries()) {
    const at = `dstOverrides[${index}]`;
    if (!isRecord(dst)) return new InvalidRouteError(describeValue(dst), `${at} is ${describeValue(dst)}, not { authority, weight }`);
    const { authority, weight } = dst;
    if (typeof authority !== 'string' || authority.trim() === '') {
      const shown = typeof authority === 'string' ? authority : describeValue(authority);
      return new InvalidRouteError(shown, `${at} has an empty authority; write e.g. "books-v2.library.svc.cluster.local:8080"`);
    }
    const parsed = parseAuthority(authority);
    if (!parsed.ok) {
      return new InvalidRouteError(authority, `${at} authority ${JSON.stringify(authority)} ${parsed.error.reason}`);
    }
    if (!isWholeNumber(weight)) {
      return new InvalidRouteError(authority, `${at} weight ${describeValue(weight)} is not a whole number >= 0; write e.g. 100`);
    }
  }
  return undefined;
}

type Compiled<T> = Result<T, InvalidRouteError>;

function compileProfileRoute(route: unknown, index: number): Compiled<CompiledProfileRoute> {
  if (!isRecord(route)) return err(new InvalidRouteError('', `route #${index + 1} is ${describeValue(route)}, not an object`));
  const name = route['name'];
  if (typeof name !== 'string' || name.trim() === '') {
    const shown = typeof name === 'string' ? name : describeValue(name);
    return err(new InvalidRouteError(shown, `route #${index + 1} has an empty name; name it after what it matches, e.g. "GET /books/{id}"`));
  }
  const fail = (reason: string) => err(new InvalidRouteError(name, reason));
  const { timeoutMs, isRetryable, responseClasses } = route;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
    return fail(`timeout ${describeValue(timeoutMs)} ms is negative or not a number; write a duration such as 10s, or leave it out`);
  }
  if (typeof isRetryable !== 'boolean') return fail(`isRetryable is ${describeValue(isRetryable)}, not true or false`);
  if (!Array.isArray(responseClasses)) return fail(`responseClasses is ${describeValue(responseClasses)}, not a list`);
  const condition = compileRequestMatch(route['condition'], fail, 1);
  if (!condition.ok) return condition;
  const classes = compileResponseClasses(responseClasses, fail);
  if (!classes.ok) return classes;
  return ok({
    name,
    isRetryable,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    definition: route as unknown as ProfileRoute,
    responseClasses: classes.value,
    matches: condition.value,
  });
}

function compileResponseClasses(responseClasses: readonly unknown[], fail: Fail): Compiled<CompiledResponseClass[]> {
  const classes: CompiledResponseClass[] = [];
  for (const [index, responseClass] of responseClasses.entries()) {
    if (!isRecord(responseClass)) return fail(`responseClasses[${index}] is ${describeValue(responseClass)}, not { condition, isFailure }`);
    const { isFailure } = responseClass;
    if (typeof isFailure !== 'boolean') return fail(`responseClasses[${index}].isFailure is ${describeValue(isFailure)}, not true or false`);
    const matcher = compileResponseMatch(responseClass['condition'], fail, 1);
    if (!matcher.ok) return matcher;
    classes.push({ isFailure, matches: matcher.value });
  }
  return ok(classes);
}

type Fail = (reason: string) => Result<never, InvalidRouteError>;
type Predicate<T> = (value: T) => boolean;
type Node = { readonly key: string; readonly value: unknown };

const REQUEST_FORMS = ['all', 'any', 'not', 'pathRegex', 'method'] as const;
const RESPONSE_FORMS = ['all', 'any', 'not', 'status'] as const;

/**
 * The one form a condition node takes, e.g. { key: "not", value: {...} }, or what is wrong with it: not an object,
 * none of the forms, several of them, or nested deeper than MAX_CONDITION_DEPTH.
 */
function conditionNode(match: unknown, forms: readonly string[], what: string, depth: number): Node | string {
  if (depth > MAX_CONDITION_DEPTH) {
    return `a ${what} is nested more than ${MAX_CONDITION_DEPTH} levels deep; flatten it, e.g. into one all: [...] or any: [...]`;
  }
  const list = `${forms.slice(0, -1).join(', ')} or ${forms[forms.length - 1]}`;
  if (!isRecord(match)) return `a ${what} is ${describeValue(match)}, not an object with one of ${list}`;
  const present = forms.filter((form) => match[form] !== undefined);
  if (present.length === 0) return `a ${what} has none of ${list}: ${describeValue(match)}`;
  if (present.length > 1) {
    return `a ${what} has both ${present.join(' and ')}; give each its own ${what} and combine them with all: [...]`;
  }
  const key = present[0] as string;
  return { key, value: match[key] };
}

/** Compiles the members of all/any, checking that they form a list. */
function compileParts<T>(node: Node, compile: (part: unknown) => Compiled<Predicate<T>>, fail: Fail): Compiled<Predicate<T>> {
  if (!Array.isArray(node.value)) return fail(`${node.key} is ${describeValue(node.value)}, not a list of conditions`);
  const parts: Predicate<T>[] = [];
  for (const part of node.value as readonly unknown[]) {
    const compiled = compile(part);
    if (!compiled.ok) return compiled;
    parts.push(compiled.value);
  }
  return ok(node.key === 'all' ? (value: T) => parts.every((p) => p(value)) : (value: T) => parts.some((p) => p(value)));
}

function compileRequestMatch(match: unknown, fail: Fail, depth: number): Compiled<Predicate<ProfileRequest>> {
  const node = conditionNode(match, REQUEST_FORMS, 'condition', depth);
  if (typeof node === 'string') return fail(node);
  const { key, value } = node;
  if (key === 'all' || key === 'any') return compileParts(node, (part) => compileRequestMatch(part, fail, depth + 1), fail);
  if (key === 'not') {
    const inner = compileRequestMatch(value, fail, depth + 1);
    return inner.ok ? ok((request) => !inner.value(request)) : inner;
  }
  if (key === 'pathRegex') {
    if (typeof value !== 'string') return fail(`pathRegex ${describeValue(value)} is not text; write a pattern such as "/books/[0-9]+"`);
    const regex = compileFullMatchRegex(value);
    if (!regex.ok) return fail(`pathRegex ${JSON.stringify(value)} ${regex.error.reason}`);
    return ok((request) => regex.value.test(request.path));
  }
  // Checked before upper-casing: "ſ".toUpperCase() is "S", which would turn a non-token into one.
  if (typeof value !== 'string' || !isHttpToken(value)) {
    return fail(`method ${describeValue(value)} is not an HTTP method; write e.g. "GET" or "POST"`);
  }
  const method = value.toUpperCase();
  return ok((request) => request.method === method);
}

function compileResponseMatch(match: unknown, fail: Fail, depth: number): Compiled<Predicate<number>> {
  const node = conditionNode(match, RESPONSE_FORMS, 'response condition', depth);
  if (typeof node === 'string') return fail(node);
  const { key, value } = node;
  if (key === 'all' || key === 'any') return compileParts(node, (part) => compileResponseMatch(part, fail, depth + 1), fail);
  if (key === 'not') {
    const inner = compileResponseMatch(value, fail, depth + 1);
    return inner.ok ? ok((status) => !inner.value(status)) : inner;
  }
  const min = isRecord(value) ? value['min'] : undefined;
  const max = isRecord(value) ? value['max'] : undefined;
  const valid = (code: unknown): code is number => isWholeNumber(code) && code >= 100 && code <= 599;
  if (!valid(min) || !valid(max) || min > max) {
    return fail(
      `status range ${describeValue(min)}..${describeValue(max)} is not valid; write whole status codes from 100 to 599 with min <= max, e.g. 500..599`,
    );
  }
  return ok((status) => status >= min && status <= max);
}
