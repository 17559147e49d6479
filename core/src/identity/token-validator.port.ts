// TokenValidator port: turns a workload's bearer token into the identity it proves, or says why it proves none.
import type { Result } from '../shared/result.js';
import type { TokenRefusal } from './token-refusal.js';
import type { WorkloadIdentity } from './workload-identity.js';

export const TokenValidator = Symbol('TokenValidator');

/**
 * Kubernetes adapters ask the API server (a TokenReview with the mesh's audience) and read the service account
 * from `system:serviceaccount:<ns>:<sa>`; Docker and local adapters check tokens the control plane issued itself.
 *
 * Refusals: 'invalid' for a token the source of truth does not know or cannot parse, 'expired', 'revoked', and
 * 'unavailable' when the source of truth cannot be asked (the only one worth retrying). Tokens are secrets: no
 * refusal message, log line or error cause may contain the token.
 */
export interface TokenValidator {
  validate(token: string): Promise<Result<WorkloadIdentity, TokenRefusal>>;
}
