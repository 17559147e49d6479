// IdentityIssuer: the Certify use case; a workload's token must prove the identity it asks for before the CA signs its CSR.
import { err, type Result } from '../shared/result.js';
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
    return this.authority.certify({ csr: request.csr, identity: requested.value });
  }
}
