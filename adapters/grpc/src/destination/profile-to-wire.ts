// Profile translator, core to wire: a ServiceProfile as a destination.v1 DestinationProfile message.
import { type Duration, durationFromMillis, type destination } from '@weft/contracts';
import {
  compileServiceProfile,
  err,
  ok,
  type ProfileRoute,
  type RequestMatch,
  type ResponseMatch,
  type Result,
  type ServiceProfile,
} from '@weft/core';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';

const MAX_UINT32 = 0xffff_ffff;

/**
 * The whole profile, retry budget included (always sent, so the proxy never has to guess the control plane's
 * defaults). Numbers the wire carries as uint32 (minimum retries per second, split weights) are rounded down to whole
 * numbers and capped at 2^32 - 1; a route timeout of 0 is sent as no timeout, which is what 0 means on the wire.
 */
export function serviceProfileToWire(profile: ServiceProfile): destination.DestinationProfile {
  const { retryRatio, minRetriesPerSecond, ttlMs } = profile.retryBudget;
  return {
    fullyQualifiedName: profile.fullyQualifiedName,
    opaqueProtocol: profile.opaqueProtocol,
    routes: profile.routes.map(routeToWire),
    retryBudget: { retryRatio, minRetriesPerSecond: toUint32(minRetriesPerSecond), ttl: durationFromMillis(ttlMs) },
    dstOverrides: profile.dstOverrides.map(({ authority, weight }) => ({ authority, weight: toUint32(weight) })),
  };
}

/**
 * serviceProfileToWire for profiles from a discovery port: checked first as the proxy will check it
 * (compileServiceProfile), so the control plane never sends a profile its proxies would refuse.
 */
export function checkedServiceProfileToWire(profile: ServiceProfile): Result<destination.DestinationProfile, InvalidWireMessageError> {
  const compiled = compileServiceProfile(profile);
  if (!compiled.ok) return err(new InvalidWireMessageError('profile', compiled.error.input, compiled.error.toString()));
  const endless = profile.routes.findIndex((route) => route.timeoutMs !== undefined && !Number.isFinite(route.timeoutMs));
  if (endless >= 0) {
    return err(new InvalidWireMessageError(`routes[${endless}].timeout`, String(profile.routes[endless]?.timeoutMs), 'is not finite; leave it out for no timeout'));
  }
  return ok(serviceProfileToWire(profile));
}

function routeToWire(route: ProfileRoute): destination.Route {
  const wire: destination.Route = {
    name: route.name,
    condition: requestMatchToWire(route.condition),
    responseClasses: route.responseClasses.map(({ condition, isFailure }) => ({
      condition: responseMatchToWire(condition),
      isFailure,
    })),
    isRetryable: route.isRetryable,
  };
  const timeout: Duration | undefined = route.timeoutMs ? durationFromMillis(route.timeoutMs) : undefined;
  if (timeout !== undefined) wire.timeout = timeout;
  return wire;
}

function requestMatchToWire(match: RequestMatch): destination.RequestMatch {
  if ('all' in match) return { match: { $case: 'all', value: { matches: match.all.map(requestMatchToWire) } } };
  if ('any' in match) return { match: { $case: 'any', value: { matches: match.any.map(requestMatchToWire) } } };
  if ('not' in match) return { match: { $case: 'not', value: requestMatchToWire(match.not) } };
  if ('pathRegex' in match) return { match: { $case: 'pathRegex', value: match.pathRegex } };
  return { match: { $case: 'method', value: match.method } };
}

function responseMatchToWire(match: ResponseMatch): destination.ResponseMatch {
  if ('all' in match) return { match: { $case: 'all', value: { matches: match.all.map(responseMatchToWire) } } };
  if ('any' in match) return { match: { $case: 'any', value: { matches: match.any.map(responseMatchToWire) } } };
  if ('not' in match) return { match: { $case: 'not', value: responseMatchToWire(match.not) } };
  return { match: { $case: 'status', value: { min: match.status.min, max: match.status.max } } };
}

function toUint32(value: number): number {
  return Math.min(MAX_UINT32, Math.max(0, Math.floor(value)));
}
