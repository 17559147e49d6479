// SignedTokenValidator: the TokenValidator for tokens this control plane signed: signature, audience, times, revocation.
import {
  CLOCK_SKEW_ALLOWANCE_MS,
  type Clock,
  err,
  ok,
  parseSpiffeUri,
  type Result,
  TokenRefusal,
  type TokenValidator,
  type WorkloadIdentity,
} from '@weft/core';
import type { TokenVerificationKey } from './token-signing-key.js';
import {
  decodeWorkloadToken,
  MAX_WORKLOAD_TOKEN_BYTES,
  WORKLOAD_TOKEN_AUDIENCE,
  type WorkloadTokenClaims,
  type WorkloadTokenProblem,
} from './workload-token-format.js';

export interface SignedTokenValidatorOptions {
  /** When set, tokens of any other trust domain are refused as 'invalid'. */
  readonly trustDomain?: string;
  /** Ids of tokens refused as 'revoked' from the start; more can be added with revoke(). */
  readonly revokedIds?: Iterable<string>;
}

const askForOne = 'send the token weft-control issued to this workload';

export class SignedTokenValidator implements TokenValidator {
  private readonly revoked: Set<string>;

  constructor(
    private readonly key: TokenVerificationKey,
    private readonly clock: Clock,
    private readonly options: SignedTokenValidatorOptions = {},
  ) {
    this.revoked = new Set(options.revokedIds ?? []);
  }

  /** From now on the token with this id (IssuedWorkloadToken.id) is refused as 'revoked'. */
  revoke(tokenId: string): void {
    this.revoked.add(tokenId);
  }

  async validate(token: string): Promise<Result<WorkloadIdentity, TokenRefusal>> {
    const decoded = decodeWorkloadToken(token, this.key);
    if (!decoded.ok) return err(new TokenRefusal('invalid', this.problemReason(decoded.problem, token, decoded.keyId), token));
    const refusal = this.claimsRefusal(decoded.claims);
    if (refusal !== undefined) return err(new TokenRefusal(refusal[0], refusal[1], token));
    const identity = parseSpiffeUri(decoded.claims.sub);
    if (!identity.ok) return err(new TokenRefusal('invalid', `the token names no workload identity: ${identity.error.reason}`, token));
    const { trustDomain } = this.options;
    if (trustDomain !== undefined && identity.value.trustDomain !== trustDomain) {
      const theirs = JSON.stringify(identity.value.trustDomain);
      return err(new TokenRefusal('invalid', `the token is for trust domain ${theirs}, not this mesh's "${trustDomain}"`, token));
    }
    return ok(identity.value);
  }

  private problemReason(problem: WorkloadTokenProblem, token: string, keyId: string | undefined): string {
    switch (problem) {
      case 'empty':
        return `no token was given; ${askForOne}`;
      case 'too-long':
        return `the token is ${Buffer.byteLength(token, 'utf8')} bytes long, over the ${MAX_WORKLOAD_TOKEN_BYTES} a workload token may have; ${askForOne}`;
      case 'not-a-token':
        return `the token is not a Weft workload token (three base64url parts joined by dots); ${askForOne}`;
      case 'bad-signature': {
        const signer = keyId === undefined || keyId === this.key.keyId ? '' : `; it names key ${keyId}`;
        return `the token's signature does not verify with this control plane's key ${this.key.keyId}${signer}, so it was altered or signed by another control plane; ${askForOne}`;
      }
      case 'bad-claims':
        return `the token's header or claims are not those of a Weft workload token; ${askForOne}`;
    }
  }

  // Audience, revocation, then time: a revoked token is reported as revoked even once it has expired.
  private claimsRefusal(claims: WorkloadTokenClaims): [TokenRefusal['code'], string] | undefined {
    if (claims.aud !== WORKLOAD_TOKEN_AUDIENCE) {
      return ['invalid', `the token is for audience ${JSON.stringify(claims.aud)}, not "${WORKLOAD_TOKEN_AUDIENCE}"; ${askForOne}`];
    }
    if (this.revoked.has(claims.jti)) return ['revoked', `the token ${claims.jti} was revoked; ask weft-control for a new one`];
    const now = this.clock.now();
    // A small allowance for a clock that is a little behind the issuer's; expiry gets none.
    if (now < claims.nbf * 1_000 - CLOCK_SKEW_ALLOWANCE_MS) {
      return ['invalid', `the token is not valid before ${isoTime(claims.nbf)}; check this host's clock`];
    }
    if (now >= claims.exp * 1_000) return ['expired', `the token expired at ${isoTime(claims.exp)}; ask weft-control for a new one`];
    return undefined;
  }
}

function isoTime(seconds: number): string {
  const ms = seconds * 1_000;
  return Number.isFinite(new Date(ms).getTime()) ? new Date(ms).toISOString() : `${seconds} s after the epoch`;
}
