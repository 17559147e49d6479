// Turns an ObserveRequest's Match tree into a predicate over published requests, refusing malformed or oversized trees.
import { tap } from '@weft/contracts';
import { err, InvalidInputError, ok, type Result } from '@weft/core';
import type { TapRequestInit } from './tap-hub.js';

export class InvalidTapMatchError extends InvalidInputError {
  readonly kind = 'tap match';
}

/** Whether one request is to be observed. */
export type TapRequestPredicate = (request: TapRequestInit) => boolean;

/** Bounds on a Match tree, so that one observer cannot make every request of the proxy expensive. */
export interface TapMatchLimits {
  /** Conditions in the whole tree, sets and `not` included. */
  readonly maxConditions: number;
  /** Nesting of all/any/not. */
  readonly maxDepth: number;
}

export const TAP_MATCH_LIMITS: TapMatchLimits = { maxConditions: 256, maxDepth: 16 };

const everything: TapRequestPredicate = () => true;

/**
 * The predicate of a Match: unset (or a top-level Match with no kind, as some clients send for "any")
 * matches every request; `all` of nothing holds and `any` of nothing does not; a nested Match must set a kind.
 */
export function compileTapMatch(
  match: tap.Match | undefined,
  limits: TapMatchLimits = TAP_MATCH_LIMITS,
): Result<TapRequestPredicate, InvalidTapMatchError> {
  if (match?.kind === undefined) return ok(everything);
  const counter = { conditions: 0 };
  const compiled = compileNode(match, 1, counter, limits);
  if (typeof compiled === 'string') return err(new InvalidTapMatchError(describe(match), compiled));
  return ok(compiled);
}

function compileNode(
  match: tap.Match,
  depth: number,
  counter: { conditions: number },
  limits: TapMatchLimits,
): TapRequestPredicate | string {
  counter.conditions += 1;
  if (counter.conditions > limits.maxConditions) return `has more than ${limits.maxConditions} conditions; observe with a simpler match`;
  if (depth > limits.maxDepth) return `nests all/any/not deeper than ${limits.maxDepth}; flatten the match`;
  const kind = match.kind;
  switch (kind?.$case) {
    case undefined:
      return 'contains a Match with no condition set; set exactly one of all, any, not, authority, path_prefix, method, destination_port';
    case 'all':
    case 'any': {
      const parts: TapRequestPredicate[] = [];
      for (const inner of kind.value.matches) {
        const compiled = compileNode(inner, depth + 1, counter, limits);
        if (typeof compiled === 'string') return compiled;
        parts.push(compiled);
      }
      return kind.$case === 'all' ? (request) => parts.every((part) => part(request)) : (request) => parts.some((part) => part(request));
    }
    case 'not': {
      const inner = compileNode(kind.value, depth + 1, counter, limits);
      return typeof inner === 'string' ? inner : (request) => !inner(request);
    }
    case 'authority': {
      const authority = kind.value.toLowerCase();
      return (request) => request.authority.length === authority.length && request.authority.toLowerCase() === authority;
    }
    case 'pathPrefix': {
      const prefix = kind.value;
      return (request) => request.path.startsWith(prefix);
    }
    case 'method': {
      const method = kind.value;
      if (method === '' || method !== method.toUpperCase()) return `method "${method}" must be written in upper case, e.g. "GET"`;
      return (request) => request.method === method;
    }
    case 'destinationPort': {
      const port = kind.value;
      if (!Number.isInteger(port) || port < 1 || port > 65_535) return `destination port ${port} is out of range; use 1 to 65535`;
      return (request) => request.destination.port === port;
    }
  }
}

/** The match as the client sent it, in proto3 JSON, for the error message. */
function describe(match: tap.Match): string {
  const text = JSON.stringify(tap.Match.toJSON(match));
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
