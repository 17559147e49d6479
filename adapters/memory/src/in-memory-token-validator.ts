// InMemoryTokenValidator: tokens this process issued to workloads, kept in a map with their expiry and revocation.
import { randomBytes } from 'node:crypto';
import { Clock, err, ok, type Result, TokenRefusal, type TokenValidator, type WorkloadIdentity } from '@weft/core';
import { inject, injectable } from 'inversify';

interface IssuedToken {
  readonly identity: WorkloadIdentity;
  /** Epoch ms from which the token is refused as expired; Infinity when it never expires. */
  expiresAt: number;
  revoked: boolean;
}

@injectable()
export class InMemoryTokenValidator implements TokenValidator {
  private readonly tokens = new Map<string, IssuedToken>();
  private available = true;

  constructor(@inject(Clock) private readonly clock: Clock) {}

  /** A new random, opaque token that proves `identity` until it is revoked or expires. */
  issue(identity: WorkloadIdentity): string {
    const token = `weft-memory.${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, { identity: { ...identity }, expiresAt: Number.POSITIVE_INFINITY, revoked: false });
    return token;
  }

  /** From now on the token is refused as 'revoked'. Returns false for a token this validator never issued. */
  revoke(token: string): boolean {
    const issued = this.tokens.get(token);
    if (issued !== undefined) issued.revoked = true;
    return issued !== undefined;
  }

  /** From epoch ms `atMs` on, the token is refused as 'expired'. Returns false for a token never issued. */
  expireAt(token: string, atMs: number): boolean {
    const issued = this.tokens.get(token);
    if (issued !== undefined) issued.expiresAt = atMs;
    return issued !== undefined;
  }

  /** While unavailable, every token is refused as 'unavailable', as when the API server cannot be reached. */
  setAvailable(on: boolean): void {
    this.available = on;
  }

  async validate(token: string): Promise<Result<WorkloadIdentity, TokenRefusal>> {
    if (!this.available) return err(new TokenRefusal('unavailable', 'the token store cannot be reached; retry later'));
    const issued = this.tokens.get(token);
    if (issued === undefined) {
      return err(new TokenRefusal('invalid', 'the token was not issued by this control plane; use the token it gave'));
    }
    if (issued.revoked) return err(new TokenRefusal('revoked', 'the token was revoked; ask for a new one'));
    if (this.clock.now() >= issued.expiresAt) {
      const at = new Date(issued.expiresAt).toISOString();
      return err(new TokenRefusal('expired', `the token expired at ${at}; ask for a new one`));
    }
    return ok({ ...issued.identity });
  }
}
