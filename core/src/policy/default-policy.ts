// Default inbound policies (all-unauthenticated, cluster-authenticated, deny, audit...) and what each one admits.
import { allNetworks, type AuthorizedNetwork } from './authentication.js';
import { parseCidr, type Cidr } from './cidr.js';
import type { InboundAuthentication, InboundAuthorization } from './inbound-server-policy.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, unwrap, type Result } from '../shared/result.js';

/** The values of `default-inbound-policy` and of a Server's `accessPolicy`. */
export const defaultPolicyNames = [
  'all-unauthenticated',
  'all-authenticated',
  'cluster-unauthenticated',
  'cluster-authenticated',
  'deny',
  'audit',
] as const;

/**
 * - `all-unauthenticated`: anyone from any address (the default);
 * - `all-authenticated`: any client with a mesh identity, from any address;
 * - `cluster-unauthenticated` / `cluster-authenticated`: the same, but only from the cluster networks;
 * - `deny`: nobody;
 * - `audit`: everybody, each decision marked as audit so it can be counted and logged.
 */
export type DefaultPolicy = (typeof defaultPolicyNames)[number];

export class InvalidDefaultPolicyError extends InvalidInputError {
  readonly kind = 'default policy';
}

/** Linkerd's default cluster networks: RFC 1918, the RFC 6598 shared range, and IPv6 ULA fd00::/8. */
export const defaultClusterNetworks: readonly Cidr[] = [
  '10.0.0.0/8',
  '100.64.0.0/10',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fd00::/8',
].map((text) => unwrap(parseCidr(text)));

/** Reads one of the six default policy names, exactly as written in Linkerd (lowercase). */
export function parseDefaultPolicy(input: string): Result<DefaultPolicy, InvalidDefaultPolicyError> {
  const text = input.trim();
  const known = defaultPolicyNames.find((name) => name === text);
  if (known !== undefined) return ok(known);
  const lower = text.toLowerCase();
  const hint = defaultPolicyNames.some((name) => name === lower) ? ` (in lowercase: "${lower}")` : '';
  const reason = `is not a default policy${hint}; use one of ${defaultPolicyNames.join(', ')}`;
  return err(new InvalidDefaultPolicyError(input, reason));
}

/**
 * The authorizations a default policy stands for, each named after the policy with kind "default".
 * `deny` and `audit` have none: audit admits clients through the policy's audit flag, not through a rule.
 */
export function defaultPolicyAuthorizations(
  policy: DefaultPolicy,
  clusterNetworks: readonly Cidr[],
): InboundAuthorization[] {
  if (policy === 'deny' || policy === 'audit') return [];
  const [scope, authentication] = policy.split('-') as ['all' | 'cluster', 'authenticated' | 'unauthenticated'];
  const networks: readonly AuthorizedNetwork[] =
    scope === 'all' ? allNetworks : clusterNetworks.map((cidr) => ({ cidr, except: [] }));
  // A cluster policy with no cluster networks admits nobody; an empty list would mean "any address".
  if (networks.length === 0) return [];
  const auth: InboundAuthentication =
    authentication === 'authenticated'
      ? { kind: 'meshTLS', identities: [{ kind: 'any' }] }
      : { kind: 'unauthenticated' };
  return [{ name: policy, kind: 'default', networks, authentication: auth }];
}
