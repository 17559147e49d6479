import { describe, expect, it } from 'vitest';
import { CertifyRefusal } from './certify-refusal.js';
import { CsrRefusal } from './csr-rules.js';

describe('CertifyRefusal', () => {
  it('carries a refused CSR with its code and message, keeping it as the cause', () => {
    const csr = new CsrRefusal('forbidden-san', '10.0.0.7', 'is an IP address SAN; remove it');
    const refusal = CertifyRefusal.fromCsrRefusal(csr);
    expect(refusal).toBeInstanceOf(CertifyRefusal);
    expect(refusal.code).toBe('forbidden-san');
    expect(refusal.message).toBe('invalid CSR "10.0.0.7": is an IP address SAN; remove it');
    expect(refusal.cause).toBe(csr);
    expect(refusal.name).toBe('CertifyRefusal');
  });

  it('is worth retrying only when the issuer is unavailable', () => {
    expect(new CertifyRefusal('issuer-unavailable', 'the issuer expired').retryable).toBe(true);
    expect(new CertifyRefusal('malformed-csr', 'not a CSR').retryable).toBe(false);
    expect(new CertifyRefusal('bad-signature', 'bad').retryable).toBe(false);
    expect(new CertifyRefusal('rate-limited', 'too many requests for web.shop').retryable).toBe(true);
    expect(new CertifyRefusal('unreachable', 'the control plane did not answer').retryable).toBe(true);
  });
});
