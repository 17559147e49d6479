// Identity patterns of MeshTLSAuthentication: an exact mesh identity, a "*.suffix" of one, or "*" for any.
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

const label = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const maxNameLength = 253;
const maxLabelLength = 63;
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
  const problem = nameProblem(name);
  if (problem !== undefined) return err(new InvalidIdentityPatternError(input, problem));
  return ok(suffix ? { kind: 'suffix', suffix: name } : { kind: 'exact', name });
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

// What is wrong with a dot-separated name of lowercase DNS labels, or undefined.
function nameProblem(name: string): string | undefined {
  if (name.length > maxNameLength) return `is ${name.length} characters long; an identity has at most ${maxNameLength}`;
  for (const part of name.split('.')) {
    if (part === '') return `has an empty label (".." or a leading or trailing "."); ${forms}`;
    if (part.length > maxLabelLength) return `has label "${part}" longer than ${maxLabelLength} characters`;
    if (part !== part.toLowerCase() && label.test(part.toLowerCase())) {
      return `has uppercase letters in "${part}"; identities are lowercase, write "${name.toLowerCase()}"`;
    }
    if (!label.test(part)) {
      return `has label "${part}"; a label holds only a-z, 0-9 and "-", and does not start or end with "-"`;
    }
  }
  return undefined;
}
