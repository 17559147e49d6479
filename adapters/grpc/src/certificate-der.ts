// Certificates between PEM (what the core ports carry) and DER (what the Identity contract carries).

/** Why a PEM text could not be turned into DER; says what was expected, never repeats the text. */
export class CertificatePemError extends Error {
  override readonly name = 'CertificatePemError';
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/g;

/**
 * The DER bytes of the one PEM block in `pem`, whatever its label (our authorities label certificates
 * CERTIFICATE; the memory one has its own label, and its bytes travel as they are).
 * @throws CertificatePemError when `pem` holds no block or more than one: the authority handed over a broken value.
 */
export function pemToDer(pem: string): Uint8Array {
  const blocks = [...pem.matchAll(pemBlock)];
  const [block] = blocks;
  if (block === undefined || blocks.length !== 1) {
    throw new CertificatePemError(`expected exactly one PEM block, found ${blocks.length}`);
  }
  return new Uint8Array(Buffer.from((block[2] ?? '').replace(/\s+/g, ''), 'base64'));
}

/** The PEM of DER bytes: the base64 in 64-character lines between BEGIN and END lines of `label`. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
