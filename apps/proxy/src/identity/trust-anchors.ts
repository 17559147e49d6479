// Reads and checks the trust anchors file: the CA certificates that every peer's certificate chain must end at.
import { type Clock, err, ok, type Result } from '@weft/core';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeFileError, IdentityInputError } from './identity-input-error.js';

/** Why `pem` is not a usable bundle of trust anchors at epoch ms `now`, or undefined when it is one. */
export type TrustAnchorsCheck = (pem: string, now: number) => string | undefined;

/** Gives the trust anchors PEM, checked; read again before each certify request so a rotated bundle is picked up. */
export type ReadTrustAnchors = () => Promise<Result<string, IdentityInputError>>;

const VARIABLE = 'WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE';
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** The PEM blocks of `text` with their labels, e.g. [{ label: 'CERTIFICATE', pem: '-----BEGIN...' }]. */
export function pemBlocks(text: string): { readonly label: string; readonly pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1] ?? '', pem: `${match[0]}\n` }));
}

/**
 * X.509 trust anchors: only CERTIFICATE blocks (a private key has no business in this file), each one a CA
 * certificate that parses, and at least one not expired. Node's TLS would accept less and fail every handshake later.
 */
export const checkX509TrustAnchors: TrustAnchorsCheck = (pem, now) => {
  const blocks = pemBlocks(pem);
  if (blocks.length === 0) return 'holds no PEM certificate; write the trust anchors as "-----BEGIN CERTIFICATE-----" blocks';
  let unexpired = 0;
  for (const [index, block] of blocks.entries()) {
    const which = `block ${index + 1}`;
    if (block.label !== 'CERTIFICATE') return `${which} is a ${block.label}; the file holds only CERTIFICATE blocks (never a private key)`;
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block.pem);
    } catch (error) {
      return `${which} is not an X.509 certificate (${describeFileError(error)})`;
    }
    if (!certificate.ca) return `${which} (${certificate.subject.replaceAll('\n', ', ')}) is not a CA certificate; a trust anchor has basicConstraints CA:TRUE`;
    if (certificate.validToDate.getTime() > now) unexpired += 1;
  }
  return unexpired > 0 ? undefined : 'every certificate in it has expired; write the current trust anchors';
};

/** A reader of the trust anchors file that refuses a file `check` finds wrong, naming the variable and the path. */
export function trustAnchorsReader(path: string, check: TrustAnchorsCheck, clock: Clock): ReadTrustAnchors {
  const where = `${VARIABLE}=${JSON.stringify(path)}`;
  return async () => {
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (error) {
      return err(new IdentityInputError('trust-anchors-unreadable', VARIABLE, `${where}: cannot read the trust anchors file (${describeFileError(error)})`));
    }
    const problem = check(pem, clock.now());
    if (problem !== undefined) return err(new IdentityInputError('trust-anchors-invalid', VARIABLE, `${where}: the trust anchors file ${problem}`));
    return ok(pem);
  };
}
