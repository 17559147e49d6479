// CaMaterialError: why a trust anchor or issuer (certificate, key or bundle) cannot be used, naming its file.
import { InvalidInputError } from '@weft/core';

export type CaMaterialErrorCode =
  | 'unreadable'
  | 'malformed'
  | 'unsupported-key'
  | 'key-mismatch'
  | 'not-a-ca'
  | 'anchor-as-issuer'
  | 'not-yet-valid'
  | 'expired'
  | 'untrusted';

/** `input` names the material: a file path, or a label such as "issuer certificate" when it came as text. */
export class CaMaterialError extends InvalidInputError {
  readonly kind = 'CA material';

  constructor(
    readonly code: CaMaterialErrorCode,
    input: string,
    reason: string,
  ) {
    super(input, reason);
  }
}
