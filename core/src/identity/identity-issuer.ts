// IdentityIssuer: the Certify use case; a workload's token must prove the identity it asks for before the CA signs its CSR.
import { err, type Result } from '../shared/result.js';
import type { Clock } from '../time/clock.port.js';
import type { CertifyRateLimiter } from './certify-rate-limiter.js';
import type { CertificateAuthority, IssuedCertificate } from './certificate-authority.port.js';
import { CertifyRefusal } from './certify-refusal.js';
import type { TokenRefusal } from './token-refusal.js';
import type { TokenValidator } from './token-validator.port.js';
import type { WorkloadCertifier } from './workload-certifier.port.js';
import { identityName, type InvalidIdentityError, parseIdentityName, sameIdentity } from './workload-identity.js';

export interface CertifyWorkloadRequest {
  /** The DNS-like identity the workload asks for, e.g. `web.shop.serviceaccount.identity.weft.cluster.local`. */
  readonly identityName: string;
  /** The workload's proof of who it is; a secret, never logged or echoed. */
  readonly token: string;
  /** The DER-encoded PKCS#10 request carrying the workload's public key. */
  readonly csr: Uint8Array;
}

export type CertifyWorkloadRefusal = InvalidIdentityError | TokenRefusal | CertifyRefusal;

export interface IdentityIssuerOptions {
  /** Identities of any other trust domain are refused. */
  readonly trustDomain: string;
  /**
   * Bounds how often one identity is certified. It is charged only once the token has proven the identity, so a
   * caller without that identity's token cannot use up its budget (callers are limited by source before that).
   */
  readonly rateLimit?: { readonly clock: Clock; readonly limiter: CertifyRateLimiter };
}

export class IdentityIssuer implements WorkloadCertifier {
  constructor(
    private readonly tokens: TokenValidator,
    private readonly authority: CertificateAuthority,
    private readonly options: IdentityIssuerOptions,
  ) {}

  async certify(request: CertifyWorkloadRequest): Promise<Result<IssuedCertificate, CertifyWorkloadRefusal>> {
    const requested = parseIdentityName(request.identityName, { trustDomain: this.options.trustDomain });
    if (!requested.ok) return requested;
    const proven = await this.tokens.validate(request.token);
    if (!proven.ok) return proven;
    if (!sameIdentity(requested.value, proven.value)) {
      return err(
        new CertifyRefusal(
          'identity-not-proven',
          `the token proves ${identityName(proven.value)}, not the requested ${request.identityName}`,
        ),
      );
    }
    const limited = this.rateLimited(identityName(requested.value));
    if (limited !== undefined) return err(limited);
    return this.authority.certify({ csr: request.csr, identity: requested.value });
  }

  private rateLimited(name: string): CertifyRefusal | undefined {
    const rateLimit = this.options.rateLimit;
    if (rateLimit === undefined) return undefined;
    const decision = rateLimit.limiter.tryAcquire(name, rateLimit.clock.now());
    if (decision.granted) return undefined;
    const seconds = Math.ceil(decision.retryAfterMs / 1_000);
    return new CertifyRefusal('rate-limited', `${name} asked for certificates too often; retry in ${seconds} s or later`);
  }
}
