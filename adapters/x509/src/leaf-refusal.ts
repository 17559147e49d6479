// LeafRefusal: why a peer's certificate is not an acceptable Weft workload certificate (an X.509-SVID leaf).
import { InvalidInputError } from '@weft/core';

/** What was wrong with the leaf, in the order verifyWorkloadLeaf checks. */
export const LEAF_REFUSAL_CODES = [
  'malformed',
  'ca-certificate',
  'unsupported-key',
  'key-usage',
  'extended-key-usage',
  'uri-san',
  'dns-san',
  'forbidden-san',
  'not-yet-valid',
  'expired',
  'untrusted',
  'identity-mismatch',
] as const;
export type LeafRefusalCode = (typeof LEAF_REFUSAL_CODES)[number];

/** `input` is the offending value (a SAN, a date, a key type...); the reason says what is wrong and what to do. */
export class LeafRefusal extends InvalidInputError {
  readonly kind = 'workload certificate';

  constructor(
    readonly code: LeafRefusalCode,
    input: string,
    reason: string,
  ) {
    super(input, reason);
  }
}
