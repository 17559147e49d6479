// TokenSigningKey: the control plane's Ed25519 key for workload tokens, generated here or read from PEM.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { err, InvalidInputError, ok, type Result } from '@weft/core';

/** What a validator needs: the public half of the signing key and its id. */
export interface TokenVerificationKey {
  readonly publicKey: KeyObject;
  /** A short fingerprint of the public key, written in each token's header as `kid`. */
  readonly keyId: string;
}

/** The key pair the control plane signs workload tokens with; the private half never leaves the control plane. */
export interface TokenSigningKey extends TokenVerificationKey {
  readonly privateKey: KeyObject;
}

export class InvalidTokenKeyError extends InvalidInputError {
  readonly kind = 'token signing key';
}

/** A fresh Ed25519 key pair. */
export function generateTokenSigningKey(): TokenSigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyOf(privateKey);
}

/**
 * Reads a PKCS#8 PEM Ed25519 private key. `source` names where the PEM came from (a file path) in the error; the
 * PEM itself is a secret and never appears in it.
 */
export function tokenSigningKeyFromPem(pem: string, source: string): Result<TokenSigningKey, InvalidTokenKeyError> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return err(
      new InvalidTokenKeyError(source, 'holds no PEM private key; write a PKCS#8 Ed25519 key ("-----BEGIN PRIVATE KEY-----")'),
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    return err(
      new InvalidTokenKeyError(
        source,
        `holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; workload tokens are signed with Ed25519, ` +
          'generate one with `openssl genpkey -algorithm ed25519` or let weft-control create it',
      ),
    );
  }
  return ok(signingKeyOf(privateKey));
}

/** The PKCS#8 PEM of the private key, for writing to a file. */
export function tokenSigningKeyToPem(key: TokenSigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function signingKeyOf(privateKey: KeyObject): TokenSigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: tokenKeyId(publicKey) };
}

/** The first 16 characters of the base64url SHA-256 of the public key's SPKI DER. */
export function tokenKeyId(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64url').slice(0, 16);
}
