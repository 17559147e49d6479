// Profile translator, wire to core: a destination.v1 DestinationProfile checked and read as a ServiceProfile.
import { type destination, type Duration, millisFromDuration } from '@weft/contracts';
import {
  compileServiceProfile,
  DEFAULT_RETRY_BUDGET,
  err,
  InvalidRetryBudgetError,
  MAX_CONDITION_DEPTH,
  ok,
  type ProfileRoute,
  type RequestMatch,
  type ResponseClass,
  type ResponseMatch,
  type Result,
  type RetryBudgetConfig,
  type ServiceProfile,
  type WeightedDst,
} from '@weft/core';
import { InvalidWireMessageError, oneofCase, wireField } from '../control-client/invalid-wire-message-error.js';

type Read<T> = Result<T, InvalidWireMessageError>;

function fail(field: string, input: string, reason: string): Read<never> {
  return err(new InvalidWireMessageError(field, input, reason));
}

/**
 * Reads a whole profile and checks it as the proxy will use it (compileServiceProfile: regexes, methods, status ranges,
 * split authorities, budget limits), so a profile that arrives is one the proxy can apply. An empty
 * fully_qualified_name (an IP with no service behind it) becomes `fallbackName`; an unset retry budget becomes the
 * default one (ratio 0.2, 10 per second, 10 s). The retry ratio travels as a 32-bit float: it is read back as the
 * shortest decimal with the same float32 value, so 0.2 stays 0.2.
 */
export function serviceProfileFromWire(wire: destination.DestinationProfile, fallbackName: string): Read<ServiceProfile> {
  const routes: ProfileRoute[] = [];
  for (const [index, route] of wire.routes.entries()) {
    const read = routeFromWire(route, `routes[${index}]`);
    if (!read.ok) return read;
    routes.push(read.value);
  }
  const retryBudget = retryBudgetFromWire(wire.retryBudget);
  if (!retryBudget.ok) return retryBudget;
  const dstOverrides: WeightedDst[] = wire.dstOverrides.map(({ authority, weight }) => ({ authority, weight }));
  const profile: ServiceProfile = {
    fullyQualifiedName: wire.fullyQualifiedName === '' ? fallbackName : wire.fullyQualifiedName,
    routes,
    retryBudget: retryBudget.value,
    dstOverrides,
    opaqueProtocol: wire.opaqueProtocol,
  };
  const compiled = compileServiceProfile(profile);
  if (compiled.ok) return ok(profile);
  const { error } = compiled;
  const routeIndex = routes.findIndex((route) => route.name === error.input);
  const field =
    error instanceof InvalidRetryBudgetError
      ? 'retry_budget'
      : error.reason.startsWith('dstOverrides')
        ? 'dst_overrides'
        : routeIndex >= 0
          ? `routes[${routeIndex}]`
          : 'fully_qualified_name';
  return fail(field, error.input, error.reason);
}

function routeFromWire(wire: destination.Route, at: string): Read<ProfileRoute> {
  if (wire.condition === undefined) return fail(wireField(at, 'condition'), wire.name, 'is missing; every route needs a request condition');
  const condition = requestMatchFromWire(wire.condition, wireField(at, 'condition'), 1);
  if (!condition.ok) return condition;
  const responseClasses: ResponseClass[] = [];
  for (const [index, responseClass] of wire.responseClasses.entries()) {
    const where = wireField(at, `response_classes[${index}].condition`);
    if (responseClass.condition === undefined) return fail(where, wire.name, 'is missing; every response class needs a condition');
    const read = responseMatchFromWire(responseClass.condition, where, 1);
    if (!read.ok) return read;
    responseClasses.push({ condition: read.value, isFailure: responseClass.isFailure });
  }
  const route: ProfileRoute = { name: wire.name, condition: condition.value, responseClasses, isRetryable: wire.isRetryable };
  if (wire.timeout === undefined) return ok(route);
  const timeoutMs = durationMillis(wire.timeout, wireField(at, 'timeout'));
  if (!timeoutMs.ok) return timeoutMs;
  // Zero means no route timeout on the wire, so it is left out rather than read as "answer at once".
  return ok(timeoutMs.value === 0 ? route : { ...route, timeoutMs: timeoutMs.value });
}

function requestMatchFromWire(wire: destination.RequestMatch, at: string, depth: number): Read<RequestMatch> {
  if (depth > MAX_CONDITION_DEPTH) return tooDeep(at);
  const match = wire.match;
  switch (match?.$case) {
    case 'all':
    case 'any': {
      const parts = readList(match.value.matches, wireField(at, `${match.$case}.matches`), (part, where) =>
        requestMatchFromWire(part, where, depth + 1),
      );
      if (!parts.ok) return parts;
      return ok(match.$case === 'all' ? { all: parts.value } : { any: parts.value });
    }
    case 'not': {
      const inner = requestMatchFromWire(match.value, wireField(at, 'not'), depth + 1);
      return inner.ok ? ok({ not: inner.value }) : inner;
    }
    case 'pathRegex':
      return ok({ pathRegex: match.value });
    case 'method':
      return ok({ method: match.value });
    default:
      return fail(at, oneofCase(match), 'has no condition; set one of all, any, not, path_regex or method');
  }
}

function responseMatchFromWire(wire: destination.ResponseMatch, at: string, depth: number): Read<ResponseMatch> {
  if (depth > MAX_CONDITION_DEPTH) return tooDeep(at);
  const match = wire.match;
  switch (match?.$case) {
    case 'all':
    case 'any': {
      const parts = readList(match.value.matches, wireField(at, `${match.$case}.matches`), (part, where) =>
        responseMatchFromWire(part, where, depth + 1),
      );
      if (!parts.ok) return parts;
      return ok(match.$case === 'all' ? { all: parts.value } : { any: parts.value });
    }
    case 'not': {
      const inner = responseMatchFromWire(match.value, wireField(at, 'not'), depth + 1);
      return inner.ok ? ok({ not: inner.value }) : inner;
    }
    case 'status':
      return ok({ status: { min: match.value.min, max: match.value.max } });
    default:
      return fail(at, oneofCase(match), 'has no condition; set one of all, any, not or status');
  }
}

function readList<W, T>(items: readonly W[], at: string, read: (item: W, where: string) => Read<T>): Read<T[]> {
  const values: T[] = [];
  for (const [index, item] of items.entries()) {
    const value = read(item, wireField(at, `[${index}]`));
    if (!value.ok) return value;
    values.push(value.value);
  }
  return ok(values);
}

function tooDeep(at: string): Read<never> {
  return fail(at, '', `is nested more than ${MAX_CONDITION_DEPTH} levels deep; flatten it into one all or any`);
}

function retryBudgetFromWire(wire: destination.RetryBudget | undefined): Read<RetryBudgetConfig> {
  if (wire === undefined) return ok(DEFAULT_RETRY_BUDGET);
  if (wire.ttl === undefined) return fail('retry_budget.ttl', '', 'is missing; set the window over which retries are counted, e.g. 10s');
  const ttlMs = durationMillis(wire.ttl, 'retry_budget.ttl');
  if (!ttlMs.ok) return ttlMs;
  return ok({ retryRatio: fromFloat32(wire.retryRatio), minRetriesPerSecond: wire.minRetriesPerSecond, ttlMs: ttlMs.value });
}

/** A well-formed, non-negative Duration in ms: nanos within ±999,999,999 and of the same sign as seconds. */
export function durationMillis(duration: Duration, at: string): Read<number> {
  const { seconds, nanos } = duration;
  const shown = `${String(seconds)}s ${nanos}ns`;
  if (typeof seconds !== 'bigint' || !Number.isInteger(nanos) || Math.abs(nanos) >= 1e9) {
    return fail(at, shown, 'is not a valid duration: nanos must be a whole number within ±999999999');
  }
  if ((seconds > 0n && nanos < 0) || (seconds < 0n && nanos > 0)) {
    return fail(at, shown, 'is not a valid duration: seconds and nanos must have the same sign');
  }
  const ms = millisFromDuration(duration);
  if (!(ms >= 0) || !Number.isFinite(ms)) return fail(at, shown, 'is negative or too long; send a duration of zero or more');
  return ok(ms);
}

/** The shortest decimal with the same float32 value: 0.2 sent as float32 comes back as 0.2, not 0.20000000298. */
export function fromFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits += 1) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}
