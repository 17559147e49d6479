// PEM armour: certificates and keys in and out of the text form that files, node:tls and openssl use.
import { createPrivateKey, type KeyObject, type webcrypto } from 'node:crypto';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

/** A PEM block with the given label ("CERTIFICATE", "PRIVATE KEY"...), lines of 64 characters, ending in a newline. */
export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const body = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER bytes of every `label` block in `text`, in order; other blocks and text around them are ignored. */
export function pemBlocks(text: string, label: string): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  for (const match of text.matchAll(BLOCK)) {
    if (match[1] === label) blocks.push(new Uint8Array(Buffer.from(match[2] ?? '', 'base64')));
  }
  return blocks;
}

/** The PKCS#8 PEM ("BEGIN PRIVATE KEY") of an extractable WebCrypto private key, as node:tls reads it. */
export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export interface SigningKey {
  readonly signingKey: webcrypto.CryptoKey;
  readonly keyObject: KeyObject;
}

/**
 * An ECDSA P-256 signing key from its PEM, in PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY") form.
 * @throws Error naming the problem if the PEM is not a private key or not ECDSA on P-256.
 */
export async function importSigningKey(pem: string): Promise<SigningKey> {
  const keyObject = createPrivateKey({ key: pem, format: 'pem' });
  const type = keyObject.asymmetricKeyType;
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  if (type !== 'ec' || curve !== 'prime256v1') {
    const what = type === 'ec' ? `an EC key on ${curve ?? 'an unnamed curve'}` : `a ${type ?? 'unknown'} key`;
    throw new Error(`is ${what}; Weft signs with ECDSA P-256 keys only`);
  }
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
  ]);
  return { signingKey, keyObject };
}
