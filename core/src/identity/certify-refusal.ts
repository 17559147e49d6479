// CertifyRefusal: why a certificate authority issued no leaf, as a code to branch on and a message for people.
import type { CsrRefusal, CsrRefusalCode } from './csr-rules.js';

/** The CSR rules' codes, plus: no issuer valid now ('issuer-unavailable'), or bytes that are not a CSR. */
export type CertifyRefusalCode = CsrRefusalCode | 'issuer-unavailable' | 'malformed-csr';

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

  /** Only a missing or expired issuer may go away by itself; every other refusal needs a different request. */
  get retryable(): boolean {
    return this.code === 'issuer-unavailable';
  }
}
