// The AuthorizationPolicy resource: what it protects (a Server, a route, a namespace) and the authentications it needs.
import type { PolicyResourceRef } from './policy-config-error.js';

/** What a policy protects: one Server, one HTTP route, or every Server of the policy's namespace. */
export type AuthorizationTarget =
  | { readonly kind: 'Server'; readonly name: string }
  | { readonly kind: 'HttpRoute'; readonly name: string }
  | { readonly kind: 'Namespace' };

/** A required authentication; `namespace` defaults to the policy's own. */
export type AuthenticationRef =
  | { readonly kind: 'MeshTLSAuthentication'; readonly name: string; readonly namespace?: string }
  | { readonly kind: 'NetworkAuthentication'; readonly name: string; readonly namespace?: string }
  | { readonly kind: 'ServiceAccount'; readonly name: string; readonly namespace?: string };

/**
 * Admits the clients that satisfy every required authentication (they combine with AND). A policy that
 * requires nothing admits every client. Policies combine with OR: a client is let in when any policy admits it.
 */
export interface AuthorizationPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly target: AuthorizationTarget;
  readonly requiredAuthentications: readonly AuthenticationRef[];
}

type NamespacedName = { readonly name: string; readonly namespace: string };

/** True when the policy protects the named Server: it targets it, or the namespace both live in. */
export function policyTargetsServer(policy: AuthorizationPolicy, server: NamespacedName): boolean {
  if (policy.namespace !== server.namespace) return false;
  return policy.target.kind === 'Namespace' || (policy.target.kind === 'Server' && policy.target.name === server.name);
}

/** True when the policy protects the named HTTP route of its namespace. */
export function policyTargetsHttpRoute(policy: AuthorizationPolicy, route: NamespacedName): boolean {
  const { target } = policy;
  return policy.namespace === route.namespace && target.kind === 'HttpRoute' && target.name === route.name;
}

/** The resource a required authentication names, its namespace defaulting to the policy's. */
export function authenticationRefResource(ref: AuthenticationRef, policyNamespace: string): PolicyResourceRef {
  return { kind: ref.kind, namespace: ref.namespace ?? policyNamespace, name: ref.name };
}
