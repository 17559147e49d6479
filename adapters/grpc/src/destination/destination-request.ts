// DestinationRequest: the GetDestination request read and checked: the authority to watch and the caller's context.
import type { destination } from '@weft/contracts';
import { type Authority, err, formatAuthority, ok, parseAuthority, type ParseAuthorityOptions, type Result } from '@weft/core';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';

/** Context tokens longer than this are refused: the token names a workload, it carries no payload. */
export const MAX_CONTEXT_TOKEN_LENGTH = 4_096;

export interface DestinationRequest {
  readonly target: Authority;
  /** The context token's fields, when one was sent; {} otherwise. */
  readonly context: Readonly<Record<string, unknown>>;
}

/**
 * Reads `path` as an authority with its port (required by the contract: "web:8080", "web.shop.svc.cluster.local:8080",
 * "10.42.0.7:8080", "[fd00::7]:8080"), and `context_token` as empty or a JSON object. `options` must be the ones the
 * control plane's discovery uses (cluster domain, default namespace), so that a name means the same on both sides.
 */
export function readDestinationRequest(
  request: destination.GetDestination,
  options: ParseAuthorityOptions = {},
): Result<DestinationRequest, InvalidWireMessageError> {
  const path = request.path;
  const withDefault = parseAuthority(path, { ...options, defaultPort: 80 });
  if (!withDefault.ok) return err(new InvalidWireMessageError('path', path, withDefault.error.reason));
  // A port that changes with the default was not written: the contract requires one.
  const otherDefault = parseAuthority(path, { ...options, defaultPort: 81 });
  if (!otherDefault.ok || otherDefault.value.port !== withDefault.value.port) {
    return err(new InvalidWireMessageError('path', path, 'has no port; write the authority with its port, e.g. "web.shop:8080" or "[fd00::7]:8080"'));
  }
  const context = readContextToken(request.contextToken);
  if (!context.ok) return context;
  return ok({ target: withDefault.value, context: context.value });
}

/** The request a client sends to watch `target`; `contextToken` as given to the proxy at start. */
export function destinationRequestFor(target: Authority, contextToken = ''): destination.GetDestination {
  return { path: formatAuthority(target), contextToken };
}

function readContextToken(token: string): Result<Readonly<Record<string, unknown>>, InvalidWireMessageError> {
  if (token === '') return ok({});
  const fail = (reason: string) => err(new InvalidWireMessageError('context_token', token.slice(0, 80), reason));
  if (token.length > MAX_CONTEXT_TOKEN_LENGTH) return fail(`is ${token.length} characters long; at most ${MAX_CONTEXT_TOKEN_LENGTH} are read`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(token);
  } catch {
    return fail('is not JSON; send a JSON object such as {"ns":"shop","workload":"checkout-7d9f"}, or nothing');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('is not a JSON object; send e.g. {"ns":"shop","workload":"checkout-7d9f"}, or nothing');
  }
  return ok(parsed as Record<string, unknown>);
}
