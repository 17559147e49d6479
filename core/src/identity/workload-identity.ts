// WorkloadIdentity: who a meshed workload is, and its two spellings: the SPIFFE URI and the DNS-like identity name.
import { dnsLabelProblem, dnsNameProblem, MAX_DNS_NAME_LENGTH } from '../shared/dns-name.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';

/** A workload is known by its Kubernetes-style service account, within a namespace, within a trust domain. */
export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** The trust domain used when the operator sets none. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** Which part of an identity, URI or identity name was wrong. */
export type IdentityPart =
  | 'trust-domain'
  | 'namespace'
  | 'service-account'
  | 'scheme'
  | 'userinfo'
  | 'port'
  | 'path'
  | 'query'
  | 'fragment'
  | 'form'
  | 'length';

export class InvalidIdentityError extends InvalidInputError {
  readonly kind = 'identity';

  constructor(
    input: string,
    /** The part that is wrong, so callers can point at the right field. */
    readonly part: IdentityPart,
    reason: string,
  ) {
    super(input, reason);
  }
}

/** Options for the parsers: the trust domain the identity must belong to, if the caller knows it. */
export interface ParseIdentityOptions {
  readonly trustDomain?: string;
}

const SPIFFE_PREFIX = 'spiffe://';
const NAME_INFIX = ['serviceaccount', 'identity', 'weft'] as const;
const WORKLOAD_PATH = '/ns/<namespace>/sa/<service-account>';
const SPIFFE_FORM = '"spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>"';
const NAME_FORM = '"<service-account>.<namespace>.serviceaccount.identity.weft.<trust-domain>"';
// The SPIFFE ID standard caps a whole ID at 2048 bytes.
const MAX_SPIFFE_URI_LENGTH = 2048;

// A part that is wrong and why.
type Problem = [IdentityPart, string];

/** `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`, the URI SAN of the workload's certificate. */
export function spiffeUri(id: WorkloadIdentity): string {
  return `${SPIFFE_PREFIX}${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** `<sa>.<ns>.serviceaccount.identity.weft.<trust-domain>`, the DNS SAN of the certificate and the SNI peers send. */
export function identityName(id: WorkloadIdentity): string {
  return [id.serviceAccount, id.namespace, ...NAME_INFIX, id.trustDomain].join('.');
}

/** True when both values name the same workload. */
export function sameIdentity(a: WorkloadIdentity, b: WorkloadIdentity): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}

/** Checks each part and returns a fresh identity holding exactly those three parts. */
export function makeWorkloadIdentity(parts: WorkloadIdentity): Result<WorkloadIdentity, InvalidIdentityError> {
  const checks: [string, IdentityPart, string | undefined][] = [
    [parts.trustDomain, 'trust-domain', trustDomainProblem(parts.trustDomain)],
    [parts.namespace, 'namespace', labelProblem(parts.namespace, 'namespace')],
    [parts.serviceAccount, 'service-account', labelProblem(parts.serviceAccount, 'service account')],
  ];
  for (const [value, part, problem] of checks) {
    if (problem !== undefined) return err(new InvalidIdentityError(value, part, problem));
  }
  const id = { trustDomain: parts.trustDomain, namespace: parts.namespace, serviceAccount: parts.serviceAccount };
  const name = identityName(id);
  if (name.length > MAX_DNS_NAME_LENGTH) {
    return err(
      new InvalidIdentityError(
        name,
        'length',
        `is ${name.length} characters long, over the ${MAX_DNS_NAME_LENGTH} a DNS name may have; ` +
          'use a shorter trust domain, namespace or service account',
      ),
    );
  }
  return ok(id);
}

/** Reads `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`; a query, port, userinfo, extra path segment... is refused. */
export function parseSpiffeUri(
  uri: string,
  options: ParseIdentityOptions = {},
): Result<WorkloadIdentity, InvalidIdentityError> {
  const uriProblem = spiffeUriProblem(uri);
  if (uriProblem !== undefined) return err(new InvalidIdentityError(uri, ...uriProblem));
  const [trustDomain = '', rest = ''] = splitOnce(uri.slice(SPIFFE_PREFIX.length), '/');
  const path = `/${rest}`;
  const pathProblem = spiffePathProblem(path);
  if (pathProblem !== undefined) return err(new InvalidIdentityError(uri, ...pathProblem));
  const [, , namespace = '', , serviceAccount = ''] = path.split('/');
  return checkParsedIdentity(uri, { trustDomain, namespace, serviceAccount }, options);
}

// What is wrong with the URI outside its path: length, scheme, fragment, query, userinfo, port.
function spiffeUriProblem(uri: string): Problem | undefined {
  if (uri.length > MAX_SPIFFE_URI_LENGTH) {
    return ['length', `is ${uri.length} characters long; a SPIFFE ID has at most ${MAX_SPIFFE_URI_LENGTH}`];
  }
  const [scheme = '', rest] = splitOnce(uri, '://');
  if (rest === undefined) return ['form', `is not a URI; write ${SPIFFE_FORM}`];
  if (scheme.toLowerCase() !== 'spiffe') {
    return ['scheme', `has scheme ${q(scheme)}; a SPIFFE ID starts with "spiffe://"`];
  }
  if (scheme !== 'spiffe') return ['scheme', `has scheme ${q(scheme)}; write it in lowercase: "spiffe://"`];
  if (rest.includes('#')) return ['fragment', 'has a fragment ("#..."); a SPIFFE ID has none, remove it'];
  if (rest.includes('?')) return ['query', 'has a query ("?..."); a SPIFFE ID has none, remove it'];
  const [authority = ''] = splitOnce(rest, '/');
  if (authority.includes('@')) return ['userinfo', 'has userinfo ("...@"); a SPIFFE ID has none, remove it'];
  if (authority.includes(':')) return ['port', 'has a port (":..."); a SPIFFE ID has none, remove it'];
  return undefined;
}

// What is wrong with the path, which must be exactly /ns/<namespace>/sa/<service-account>.
function spiffePathProblem(path: string): Problem | undefined {
  if (path === '/') return ['path', `has no path; a workload's SPIFFE ID has the path ${WORKLOAD_PATH}`];
  if (path.endsWith('/')) return ['path', 'ends with "/"; remove the trailing slash'];
  const segments = path.split('/').slice(1);
  if (segments[0] !== 'ns' || segments[2] !== 'sa' || segments.length < 4) {
    return ['path', `has path ${q(path)}; a workload's SPIFFE ID has the path ${WORKLOAD_PATH}`];
  }
  if (segments.length > 4) {
    const extra = `/${segments.slice(4).join('/')}`;
    return ['path', `has extra path segments after /sa/<service-account>; remove ${q(extra)}`];
  }
  return undefined;
}

// Splits at the first separator: ["a", "b/c"] for ("a/b/c", "/"); [text] when the separator is absent.
function splitOnce(text: string, separator: string): [string] | [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** Reads `<sa>.<ns>.serviceaccount.identity.weft.<trust-domain>` back into its parts. */
export function parseIdentityName(
  name: string,
  options: ParseIdentityOptions = {},
): Result<WorkloadIdentity, InvalidIdentityError> {
  const labels = name.split('.');
  const [serviceAccount, namespace, ...tail] = labels;
  const infix = tail.slice(0, NAME_INFIX.length);
  const trustDomain = tail.slice(NAME_INFIX.length).join('.');
  if (serviceAccount === undefined || namespace === undefined || infix.join('.') !== NAME_INFIX.join('.')) {
    const hint = infix.join('.').toLowerCase() === NAME_INFIX.join('.') ? ' in lowercase' : '';
    return err(new InvalidIdentityError(name, 'form', `is not an identity name; write${hint} ${NAME_FORM}`));
  }
  if (trustDomain === '') {
    return err(new InvalidIdentityError(name, 'trust-domain', `has no trust domain; write ${NAME_FORM}`));
  }
  return checkParsedIdentity(name, { trustDomain, namespace, serviceAccount }, options);
}

// Validates the parts found in a URI or name, reporting the whole input and the part that is wrong.
function checkParsedIdentity(
  input: string,
  parts: WorkloadIdentity,
  options: ParseIdentityOptions,
): Result<WorkloadIdentity, InvalidIdentityError> {
  const made = makeWorkloadIdentity(parts);
  if (!made.ok) {
    const { part, reason, input: value } = made.error;
    const where = part === 'length' ? reason : `has ${describePart(part)} ${q(value)}, which ${reason}`;
    return err(new InvalidIdentityError(input, part, where));
  }
  const expected = options.trustDomain;
  if (expected !== undefined && made.value.trustDomain !== expected) {
    return err(
      new InvalidIdentityError(
        input,
        'trust-domain',
        `belongs to trust domain ${q(made.value.trustDomain)}, not to this mesh's trust domain ${q(expected)}`,
      ),
    );
  }
  return made;
}

function describePart(part: IdentityPart): string {
  return part.replace('-', ' ');
}

// Quotes a value for a message, escaping control and non-ASCII characters so they cannot hide.
function q(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Why a value is not an RFC 1123 label (lowercase letters, digits and '-', at most 63), or undefined if it is one.
function labelProblem(value: string, what: string): string | undefined {
  const problem = dnsLabelProblem(value);
  return problem === undefined ? undefined : `${problem} (a ${what} is an RFC 1123 label such as "web")`;
}

// Why a value is not a lowercase DNS name (dot-separated RFC 1123 labels, at most 253), or undefined if it is one.
function trustDomainProblem(value: string): string | undefined {
  const problem = dnsNameProblem(value);
  return problem === undefined ? undefined : `${problem} (a trust domain is a DNS name such as "cluster.local")`;
}
