// PolicyConfigError: a policy resource that cannot be compiled, naming the resource and what it refers to.
import { InvalidInputError } from '../shared/invalid-input-error.js';

/** A policy resource by kind, namespace and name, e.g. AuthorizationPolicy shop/web-clients. */
export interface PolicyResourceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export class PolicyConfigError extends InvalidInputError {
  readonly kind = 'policy';

  constructor(
    /** The resource that is wrong. */
    readonly resource: PolicyResourceRef,
    reason: string,
    /** What it refers to that is missing or wrong, if the problem is a reference. */
    readonly reference?: PolicyResourceRef,
  ) {
    super(formatPolicyResource(resource), reason);
  }
}

/** "AuthorizationPolicy shop/web-clients". */
export function formatPolicyResource(ref: PolicyResourceRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}
