// Checks an ObserveRequest (limit, match, header names) and turns it into what an observation needs.
import type { tap } from '@weft/contracts';
import { err, InvalidInputError, ok, type Result } from '@weft/core';
import type { TapHeaderDenyList } from './tap-header-deny-list.js';
import { type TapHeaderPicker, tapHeaderPicker } from './tap-headers.js';
import { compileTapMatch, type InvalidTapMatchError, TAP_MATCH_LIMITS, type TapMatchLimits, type TapRequestPredicate } from './tap-match.js';

export class InvalidObserveRequestError extends InvalidInputError {
  readonly kind = 'tap observe request';
}

export interface TapObserveLimits extends TapMatchLimits {
  /** The largest `limit` accepted. */
  readonly maxLimit: number;
  /** The most names in `extract_headers`. */
  readonly maxExtractHeaders: number;
}

export const TAP_OBSERVE_LIMITS: TapObserveLimits = { ...TAP_MATCH_LIMITS, maxLimit: 100_000, maxExtractHeaders: 64 };

/** A checked ObserveRequest. */
export interface ObservePlan {
  readonly limit: number;
  readonly matches: TapRequestPredicate;
  readonly pickHeaders: TapHeaderPicker;
}

export function parseObserveRequest(
  request: tap.ObserveRequest,
  denyList: TapHeaderDenyList,
  limits: TapObserveLimits = TAP_OBSERVE_LIMITS,
): Result<ObservePlan, InvalidObserveRequestError | InvalidTapMatchError> {
  const { limit, extractHeaders } = request;
  if (!Number.isInteger(limit) || limit < 1 || limit > limits.maxLimit) {
    return err(new InvalidObserveRequestError(String(limit), `limit must be from 1 to ${limits.maxLimit} requests`));
  }
  if (extractHeaders.length > limits.maxExtractHeaders) {
    const names = extractHeaders.slice(0, 3).join(',');
    return err(
      new InvalidObserveRequestError(`${names},...`, `names ${extractHeaders.length} headers; ask for ${limits.maxExtractHeaders} at most, or "*"`),
    );
  }
  const matches = compileTapMatch(request.match, limits);
  if (!matches.ok) return matches;
  return ok({ limit, matches: matches.value, pickHeaders: tapHeaderPicker(extractHeaders, denyList) });
}
