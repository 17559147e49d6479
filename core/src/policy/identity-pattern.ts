// Identity patterns of MeshTLSAuthentication: an exact mesh identity, a "*.suffix" of one, or "*" for any.
import { dnsNameProblem } from '../shared/dns-name.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';

/**
 * Which mesh identities a rule admits:
 * - `any`: every client that presents a verified mesh identity ("*");
 * - `exact`: one identity, e.g. "web.shop.serviceaccount.identity.weft.cluster.local";
 * - `suffix`: every identity ending in "." + suffix with at least one label before it
 *   ("*.shop.serviceaccount.identity.weft.cluster.local" admits each service account of namespace shop).
 */
export type IdentityPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly name: string }
  | { readonly kind: 'suffix'; readonly suffix: string };

export class InvalidIdentityPatternError extends InvalidInputError {
  readonly kind = 'identity pattern';
}

const forms =
  'write an identity such as "web.shop.serviceaccount.identity.weft.cluster.local", ' +
  'a suffix such as "*.shop.serviceaccount.identity.weft.cluster.local", or "*" for any meshed client';

/** Reads "*", "*.suffix" or an exact identity name (lowercase DNS labels). */
export function parseIdentityPattern(input: string): Result<IdentityPattern, InvalidIdentityPatternError> {
  if (input === '') return err(new InvalidIdentityPatternError(input, `is empty; ${forms}`));
  if (input === '*') return ok({ kind: 'any' });
  const suffix = input.startsWith('*.');
  const name = suffix ? input.slice(2) : input;
  if (name.includes('*')) {
    const reason = `"*" may stand only alone or as the whole first label ("*.suffix"); ${forms}`;
    return err(new InvalidIdentityPatternError(input, reason));
  }
  if (suffix && name === '') return err(new InvalidIdentityPatternError(input, `has nothing after "*."; ${forms}`));
  const problem = dnsNameProblem(name);
  if (problem === undefined) return ok(suffix ? { kind: 'suffix', suffix: name } : { kind: 'exact', name });
  // Suggest the whole pattern in lowercase ("*.shop..."), not just the name after "*.".
  const lower = input.toLowerCase();
  const reason =
    lower !== input && dnsNameProblem(name.toLowerCase()) === undefined
      ? `has uppercase letters; identities are lowercase, write ${JSON.stringify(lower)}`
      : problem;
  return err(new InvalidIdentityPatternError(input, reason));
}

/** The pattern as parseIdentityPattern reads it. */
export function formatIdentityPattern(pattern: IdentityPattern): string {
  switch (pattern.kind) {
    case 'any':
      return '*';
    case 'exact':
      return pattern.name;
    case 'suffix':
      return `*.${pattern.suffix}`;
  }
}

/** True when a client with this verified identity is admitted; a client without one (undefined or "") never is. */
export function identityMatches(pattern: IdentityPattern, clientIdentity: string | undefined): boolean {
  if (clientIdentity === undefined || clientIdentity === '') return false;
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'exact':
      return clientIdentity === pattern.name;
    case 'suffix':
      return clientIdentity.length > pattern.suffix.length + 1 && clientIdentity.endsWith(`.${pattern.suffix}`);
  }
}

/**
 * The patterns admitting exactly the identities admitted by both lists (used when a policy requires several
 * authentications at once). Two patterns intersect in the narrower one, or in nothing.
 */
export function intersectIdentityPatterns(
  a: readonly IdentityPattern[],
  b: readonly IdentityPattern[],
): IdentityPattern[] {
  const result = new Map<string, IdentityPattern>();
  for (const left of a) {
    for (const right of b) {
      const both = intersectTwo(left, right);
      if (both !== undefined) result.set(formatIdentityPattern(both), both);
    }
  }
  return [...result.values()];
}

function intersectTwo(a: IdentityPattern, b: IdentityPattern): IdentityPattern | undefined {
  if (a.kind === 'any') return b;
  if (b.kind === 'any') return a;
  if (a.kind === 'exact') return identityMatches(b, a.name) ? a : undefined;
  if (b.kind === 'exact') return identityMatches(a, b.name) ? b : undefined;
  // Two suffixes: one must end with the other on a label boundary; the longer one is the intersection.
  const [longer, shorter] = a.suffix.length >= b.suffix.length ? [a, b] : [b, a];
  return longer.suffix === shorter.suffix || longer.suffix.endsWith(`.${shorter.suffix}`) ? longer : undefined;
}
