// CertifyRefusal: why a certificate authority issued no leaf, as a code to branch on and a message for people.
import type { CsrRefusal, CsrRefusalCode } from './csr-rules.js';

/**
 * The CSR rules' codes, plus: no issuer valid now ('issuer-unavailable'), bytes that are not a CSR ('malformed-csr'),
 * a caller that asked too often ('rate-limited'), and a certifier that could not be reached at all ('unreachable',
 * reported by remote clients of the WorkloadCertifier port).
 */
export type CertifyRefusalCode = CsrRefusalCode | 'issuer-unavailable' | 'malformed-csr' | 'rate-limited' | 'unreachable';

export class CertifyRefusal extends Error {
  constructor(
    readonly code: CertifyRefusalCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** The refusal of a CSR that failed admitCsr, keeping its code and message; the CsrRefusal is the cause. */
  static fromCsrRefusal(refusal: CsrRefusal): CertifyRefusal {
    return new CertifyRefusal(refusal.code, refusal.toString(), { cause: refusal });
  }

  /** A missing issuer, a rate limit or an unreachable certifier may go away by itself; the rest need a different request. */
  get retryable(): boolean {
    return this.code === 'issuer-unavailable' || this.code === 'rate-limited' || this.code === 'unreachable';
  }
}
