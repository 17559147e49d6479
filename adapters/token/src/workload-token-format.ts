// The compact workload token: a JWT signed with Ed25519 (header.claims.signature, each base64url) naming one workload.
import { sign, verify } from 'node:crypto';
import type { TokenSigningKey, TokenVerificationKey } from './token-signing-key.js';

/** The audience every workload token is issued for: the control plane's identity service, nothing else. */
export const WORKLOAD_TOKEN_AUDIENCE = 'identity.weft';

/** The issuer named in each token. */
export const WORKLOAD_TOKEN_ISSUER = 'weft-control';

/** The longest token a validator reads; an issued token takes about 400 bytes. */
export const MAX_WORKLOAD_TOKEN_BYTES = 4_096;

export interface WorkloadTokenClaims {
  readonly iss: string;
  /** The workload's SPIFFE URI: trust domain, namespace and service account. */
  readonly sub: string;
  readonly aud: string;
  /** Issued at, not before and expiry: seconds since the epoch (JWT NumericDate). */
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** The token's random id, the handle to revoke it by. */
  readonly jti: string;
}

interface WorkloadTokenHeader {
  readonly alg: 'EdDSA';
  readonly typ: 'JWT';
  readonly kid: string;
}

const segment = /^[A-Za-z0-9_-]+$/;

export function encodeWorkloadToken(claims: WorkloadTokenClaims, key: TokenSigningKey): string {
  const header: WorkloadTokenHeader = { alg: 'EdDSA', typ: 'JWT', kid: key.keyId };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign(null, Buffer.from(signed, 'ascii'), key.privateKey);
  return `${signed}.${signature.toString('base64url')}`;
}

/** Why a token is not a good token of this key; none of these reasons quotes the token. */
export type WorkloadTokenProblem = 'empty' | 'too-long' | 'not-a-token' | 'bad-signature' | 'bad-claims';

export type DecodedWorkloadToken =
  | { readonly ok: true; readonly claims: WorkloadTokenClaims }
  | { readonly ok: false; readonly problem: WorkloadTokenProblem; readonly keyId?: string };

/**
 * Checks the token's shape, then its signature with `key`, and only then reads the claims: nothing the token says
 * is believed before the signature verifies. The header's algorithm is not consulted to pick a verifier; only
 * Ed25519 with this key is tried, so a token cannot downgrade itself to "none" or to another key.
 */
export function decodeWorkloadToken(token: string, key: TokenVerificationKey): DecodedWorkloadToken {
  if (token === '') return { ok: false, problem: 'empty' };
  if (Buffer.byteLength(token, 'utf8') > MAX_WORKLOAD_TOKEN_BYTES) return { ok: false, problem: 'too-long' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every(isCanonicalBase64url)) return { ok: false, problem: 'not-a-token' };
  const [header = '', claims = '', signature = ''] = parts;
  const signed = Buffer.from(`${header}.${claims}`, 'ascii');
  if (!verify(null, signed, key.publicKey, Buffer.from(signature, 'base64url'))) {
    const keyId = readKeyId(header);
    return keyId === undefined ? { ok: false, problem: 'bad-signature' } : { ok: false, problem: 'bad-signature', keyId };
  }
  const parsedHeader = parseJson(header);
  const parsedClaims = parseJson(claims);
  if (!isHeader(parsedHeader) || !isClaims(parsedClaims)) return { ok: false, problem: 'bad-claims' };
  return { ok: true, claims: parsedClaims };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

// Node's decoder skips characters it does not know and ignores stray bits; a re-encoding that differs means the
// segment was not written by an encoder, so a token has exactly one spelling.
function isCanonicalBase64url(part: string): boolean {
  return segment.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part;
}

function parseJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

// The key id a token claims, for a message that says which key signed it; only when it is short and plain.
function readKeyId(header: string): string | undefined {
  const parsed = parseJson(header) as { kid?: unknown } | undefined;
  const kid = parsed?.kid;
  return typeof kid === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(kid) ? kid : undefined;
}

function isHeader(value: unknown): value is WorkloadTokenHeader {
  const header = value as Partial<Record<keyof WorkloadTokenHeader, unknown>> | undefined;
  return typeof header === 'object' && header !== null && header.alg === 'EdDSA' && typeof header.kid === 'string';
}

function isClaims(value: unknown): value is WorkloadTokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const claims = value as Partial<Record<keyof WorkloadTokenClaims, unknown>>;
  const strings = [claims.iss, claims.sub, claims.aud, claims.jti].every((field) => typeof field === 'string');
  const times = [claims.iat, claims.nbf, claims.exp].every((field) => Number.isSafeInteger(field));
  return strings && times;
}
