// Translates each Certify refusal to the gRPC status the Identity contract gives it, and a status back to a refusal.
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  CertifyRefusal,
  type CertifyRefusalCode,
  type CertifyWorkloadRefusal,
  type CertifyWorkloadRequest,
  type IdentityPart,
  InvalidIdentityError,
  redactToken,
  TokenRefusal,
  type TokenRefusalCode,
} from '@weft/core';

/**
 * The trailer naming the exact refusal, `<kind>/<code>`: `certify/san-mismatch`, `token/expired`, `identity/namespace`.
 * The status code alone is what the contract promises; the trailer lets a Weft client rebuild the very refusal.
 */
export const REFUSAL_TRAILER = 'weft-refusal';

export interface CertifyStatus {
  readonly code: status;
  /** What was wrong, for people; never contains the token. */
  readonly details: string;
  readonly metadata: Metadata;
}

// A Record over every code: a code the core adds without a status here does not compile.
const certifyStatuses: Record<CertifyRefusalCode, status> = {
  'malformed-csr': status.INVALID_ARGUMENT,
  'bad-signature': status.INVALID_ARGUMENT,
  'identity-not-proven': status.PERMISSION_DENIED,
  'unsupported-key': status.FAILED_PRECONDITION,
  'san-mismatch': status.FAILED_PRECONDITION,
  'forbidden-san': status.FAILED_PRECONDITION,
  'issuer-unavailable': status.UNAVAILABLE,
  'rate-limited': status.RESOURCE_EXHAUSTED,
  unreachable: status.UNAVAILABLE,
};

const tokenStatuses: Record<TokenRefusalCode, status> = {
  invalid: status.UNAUTHENTICATED,
  expired: status.UNAUTHENTICATED,
  revoked: status.UNAUTHENTICATED,
  // The validator's source of truth is away: like a missing issuer, worth retrying later.
  unavailable: status.UNAVAILABLE,
};

const certifyCodes = Object.keys(certifyStatuses) as CertifyRefusalCode[];
const tokenCodes = Object.keys(tokenStatuses) as TokenRefusalCode[];
const identityParts = [
  'trust-domain',
  'namespace',
  'service-account',
  'scheme',
  'userinfo',
  'port',
  'path',
  'query',
  'fragment',
  'form',
  'length',
] as const satisfies readonly IdentityPart[];

type ParsedRefusal =
  | { readonly kind: 'certify'; readonly code: CertifyRefusalCode }
  | { readonly kind: 'token'; readonly code: TokenRefusalCode }
  | { readonly kind: 'identity'; readonly code: IdentityPart };

/** The status, message and trailer of a refusal; `token` is redacted from the message should it appear in it. */
export function certifyRefusalToStatus(refusal: CertifyWorkloadRefusal, token: string): CertifyStatus {
  const parsed = describeRefusal(refusal);
  const metadata = new Metadata();
  metadata.set(REFUSAL_TRAILER, `${parsed.kind}/${parsed.code}`);
  const message = refusal instanceof InvalidIdentityError ? refusal.toString() : refusal.message;
  return { code: statusOf(parsed), details: redactToken(message, token), metadata };
}

/**
 * The refusal a failed Certify call stands for. With a Weft trailer that agrees with the status, the exact refusal
 * is rebuilt; otherwise the status decides: a control plane that cannot be reached, does not answer in time or fails
 * in a way the contract does not list is 'unreachable', which the caller retries.
 */
export function certifyRefusalFromStatus(
  error: Pick<ServiceError, 'code' | 'details' | 'metadata'>,
  request: CertifyWorkloadRequest,
  target: string,
): CertifyWorkloadRefusal {
  const details = redactToken(error.details, request.token);
  const parsed = parseTrailer(error.metadata?.get(REFUSAL_TRAILER)[0]);
  if (parsed !== undefined && statusOf(parsed) === error.code) return rebuild(parsed, details, request);
  switch (error.code) {
    case status.INVALID_ARGUMENT:
      return new CertifyRefusal('malformed-csr', details);
    case status.UNAUTHENTICATED:
      return new TokenRefusal('invalid', details, request.token);
    case status.PERMISSION_DENIED:
      return new CertifyRefusal('identity-not-proven', details);
    case status.FAILED_PRECONDITION:
      return new CertifyRefusal('san-mismatch', details);
    case status.RESOURCE_EXHAUSTED:
      return new CertifyRefusal('rate-limited', details);
    default:
      return new CertifyRefusal(
        'unreachable',
        `the control plane at ${target} could not certify (${status[error.code] ?? error.code}: ${details}); retry later`,
      );
  }
}

function describeRefusal(refusal: CertifyWorkloadRefusal): ParsedRefusal {
  if (refusal instanceof TokenRefusal) return { kind: 'token', code: refusal.code };
  if (refusal instanceof InvalidIdentityError) return { kind: 'identity', code: refusal.part };
  return { kind: 'certify', code: refusal.code };
}

function statusOf(refusal: ParsedRefusal): status {
  switch (refusal.kind) {
    case 'certify':
      return certifyStatuses[refusal.code];
    case 'token':
      return tokenStatuses[refusal.code];
    case 'identity':
      return status.INVALID_ARGUMENT;
  }
}

function parseTrailer(value: unknown): ParsedRefusal | undefined {
  if (typeof value !== 'string') return undefined;
  const [kind, code] = value.split('/');
  if (kind === 'certify' && certifyCodes.includes(code as CertifyRefusalCode)) return { kind, code: code as CertifyRefusalCode };
  if (kind === 'token' && tokenCodes.includes(code as TokenRefusalCode)) return { kind, code: code as TokenRefusalCode };
  if (kind === 'identity' && identityParts.includes(code as IdentityPart)) return { kind, code: code as IdentityPart };
  return undefined;
}

// Rebuilds the server's refusal; the message prefix each error class adds is taken off so it is not doubled.
function rebuild(parsed: ParsedRefusal, details: string, request: CertifyWorkloadRequest): CertifyWorkloadRefusal {
  switch (parsed.kind) {
    case 'certify':
      return new CertifyRefusal(parsed.code, details);
    case 'token':
      return new TokenRefusal(parsed.code, withoutPrefix(details, `token refused (${parsed.code}): `), request.token);
    case 'identity': {
      const prefix = `invalid identity ${JSON.stringify(request.identityName)}: `;
      return new InvalidIdentityError(request.identityName, parsed.code, withoutPrefix(details, prefix));
    }
  }
}

function withoutPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}
