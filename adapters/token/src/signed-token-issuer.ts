// SignedTokenIssuer: the control plane's issuer of workload tokens, each naming one workload and signed with its key.
import { randomBytes } from 'node:crypto';
import {
  type Clock,
  type InvalidIdentityError,
  makeWorkloadIdentity,
  ok,
  type Result,
  spiffeUri,
  type WorkloadIdentity,
} from '@weft/core';
import type { TokenSigningKey } from './token-signing-key.js';
import { encodeWorkloadToken, WORKLOAD_TOKEN_AUDIENCE, WORKLOAD_TOKEN_ISSUER } from './workload-token-format.js';

/** How long a workload token lasts unless told otherwise: 24 h. */
export const DEFAULT_WORKLOAD_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1_000;

export interface SignedTokenIssuerOptions {
  /** How long each token lasts; DEFAULT_WORKLOAD_TOKEN_LIFETIME_MS when absent. Whole seconds count. */
  readonly lifetimeMs?: number;
}

export interface IssuedWorkloadToken {
  /** The bearer token to hand to the workload; a secret. */
  readonly token: string;
  /** The token's random id: what to revoke it by, and safe to log. */
  readonly id: string;
  readonly identity: WorkloadIdentity;
  /** Epoch ms, whole seconds. */
  readonly notBefore: number;
  /** Epoch ms, whole seconds; from then on the token is refused as expired. */
  readonly notAfter: number;
}

export class SignedTokenIssuer {
  private readonly lifetimeSeconds: number;

  /** @throws RangeError if lifetimeMs is under one second or not finite (a programming error, not user input). */
  constructor(
    private readonly key: TokenSigningKey,
    private readonly clock: Clock,
    options: SignedTokenIssuerOptions = {},
  ) {
    const lifetimeMs = options.lifetimeMs ?? DEFAULT_WORKLOAD_TOKEN_LIFETIME_MS;
    if (!(lifetimeMs >= 1_000 && lifetimeMs < Infinity)) {
      throw new RangeError(`lifetimeMs is ${lifetimeMs}; expected at least 1000 ms`);
    }
    this.lifetimeSeconds = Math.floor(lifetimeMs / 1_000);
  }

  /** A new token that proves `identity` from now until the lifetime has passed; the identity's parts are checked. */
  issue(identity: WorkloadIdentity): Result<IssuedWorkloadToken, InvalidIdentityError> {
    const checked = makeWorkloadIdentity(identity);
    if (!checked.ok) return checked;
    const issuedAt = Math.floor(this.clock.now() / 1_000);
    const expiresAt = issuedAt + this.lifetimeSeconds;
    const id = randomBytes(16).toString('base64url');
    const token = encodeWorkloadToken(
      {
        iss: WORKLOAD_TOKEN_ISSUER,
        sub: spiffeUri(checked.value),
        aud: WORKLOAD_TOKEN_AUDIENCE,
        iat: issuedAt,
        nbf: issuedAt,
        exp: expiresAt,
        jti: id,
      },
      this.key,
    );
    return ok({ token, id, identity: checked.value, notBefore: issuedAt * 1_000, notAfter: expiresAt * 1_000 });
  }
}
