// WorkloadCertifier port: what a proxy calls to turn its token and CSR into a certificate (in process or over gRPC).
import type { Result } from '../shared/result.js';
import type { IssuedCertificate } from './certificate-authority.port.js';
import type { CertifyWorkloadRefusal, CertifyWorkloadRequest } from './identity-issuer.js';

export const WorkloadCertifier = Symbol('WorkloadCertifier');

/**
 * IdentityIssuer implements it in the control plane; a gRPC client implements it in the proxy and reports a control
 * plane it cannot reach as CertifyRefusal 'unreachable', a rate limit as 'rate-limited'. Callers retry only refusals
 * whose `retryable` is true (TokenRefusal: code 'unavailable').
 */
export interface WorkloadCertifier {
  certify(request: CertifyWorkloadRequest): Promise<Result<IssuedCertificate, CertifyWorkloadRefusal>>;
}
