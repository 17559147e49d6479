// Reads a DER PKCS#10 CSR into the facts the core's CSR rules decide on, plus the public key to certify.
import { CertifyRefusal, type CsrFacts, type CsrKeyAlgorithm, err, MAX_CSR_BYTES, ok, type Result } from '@weft/core';
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { childrenOf, readTlv, rawOf, type Tlv } from './der.js';
import { addGeneralNames, emptyNames, type SubjectAltNames } from './general-names.js';
import { messageOf } from './parsed-certificate.js';
import { Pkcs10CertificateRequest } from './peculiar-x509.js';

export interface ReadCsr {
  readonly facts: CsrFacts;
  /** The DER SubjectPublicKeyInfo the CSR carries, exactly as it was sent. */
  readonly spki: Uint8Array;
  /** SANs of types CsrFacts has no field for (directory names, registered IDs...), or ones that cannot be read. */
  readonly otherNames: readonly string[];
}

interface CsrParts {
  readonly der: Uint8Array;
  readonly names: SubjectAltNames;
  readonly info: Uint8Array;
  readonly signatureAlgorithm: Uint8Array;
  readonly signature: Uint8Array;
  readonly spki: Uint8Array;
  readonly key: KeyObject;
}

/**
 * The facts of a CSR, or 'malformed-csr' for bytes over MAX_CSR_BYTES or that are not a DER PKCS#10 request.
 * The CA reads a CSR on every request, so this walks the DER itself and verifies with node:crypto: several times
 * faster than a general ASN.1 library, and it reads only what the rules need.
 */
export async function readCsr(bytes: Uint8Array): Promise<Result<ReadCsr, CertifyRefusal>> {
  if (bytes.byteLength > MAX_CSR_BYTES) {
    const reason = `the CSR is ${bytes.byteLength} bytes; a CSR has at most ${MAX_CSR_BYTES}`;
    return err(new CertifyRefusal('malformed-csr', reason));
  }
  let parts: CsrParts;
  try {
    parts = csrParts(bytes);
  } catch (error) {
    const reason = `the CSR is not a DER PKCS#10 request (${messageOf(error)}); send the DER bytes of a CSR`;
    return err(new CertifyRefusal('malformed-csr', reason));
  }
  const { dns, uri, ip, email, other } = parts.names;
  const key = keyOf(parts.key);
  const facts: CsrFacts = {
    signatureValid: await signatureValid(parts),
    keyAlgorithm: key.algorithm,
    ...(key.namedCurve === undefined ? {} : { namedCurve: key.namedCurve }),
    dnsNames: dns,
    uris: uri,
    ipAddresses: ip,
    emailAddresses: email,
  };
  return ok({ facts, spki: parts.spki, otherNames: other });
}

// CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING },
// CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, [0] attributes }.
function csrParts(bytes: Uint8Array): CsrParts {
  if (bytes.byteLength === 0) throw new Error('no bytes');
  const outer = readTlv(bytes, 0);
  if (outer.end !== bytes.length) throw new Error('bytes after the request');
  const [info, algorithm, signature] = expect(childrenOf(bytes, outer), 3);
  const infoFields = childrenOf(bytes, info);
  const [, , spki] = expect(infoFields, 3);
  if (signature.tag !== 0x03 || bytes[signature.start] !== 0) throw new Error('the signature is not a BIT STRING');
  const spkiDer = rawOf(bytes, spki);
  const attributes = infoFields[3];
  return {
    der: bytes,
    names: attributes?.tag === 0xa0 ? requestedNames(bytes, attributes) : emptyNames(),
    info: rawOf(bytes, info),
    signatureAlgorithm: bytes.subarray(algorithm.start, algorithm.end),
    signature: bytes.subarray(signature.start + 1, signature.end),
    spki: spkiDer,
    key: createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' }),
  };
}

function expect(children: Tlv[], count: number): [Tlv, Tlv, Tlv] {
  if (children.length < count) throw new Error('missing fields');
  return children as [Tlv, Tlv, Tlv];
}

const hex = (value: Uint8Array) => Buffer.from(value).toString('hex');
// The DER of the signature algorithms' OIDs (with any parameters), and the hash node:crypto verifies them with.
const SIGNATURE_HASHES: Record<string, string | null> = {
  '06082a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '06082a8648ce3d040303': 'sha384',
  '06082a8648ce3d040304': 'sha512',
  '06092a864886f70d01010b0500': 'sha256', // sha256WithRSAEncryption
  '06092a864886f70d01010b': 'sha256',
  '06092a864886f70d01010c0500': 'sha384',
  '06092a864886f70d01010d0500': 'sha512',
  '06032b6570': null, // Ed25519
};

// Proof of possession: the request's self-signature verifies with the key it carries.
async function signatureValid(parts: CsrParts): Promise<boolean> {
  const hash = SIGNATURE_HASHES[hex(parts.signatureAlgorithm)];
  try {
    if (hash !== undefined) return verify(hash, parts.info, parts.key, parts.signature);
    return await new Pkcs10CertificateRequest(parts.der).verify(); // rarer algorithms (RSA-PSS...), via WebCrypto
  } catch {
    return false;
  }
}

function keyOf(key: KeyObject): { algorithm: CsrKeyAlgorithm; namedCurve?: string } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const names: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
      return curve === undefined ? { algorithm: 'ECDSA' } : { algorithm: 'ECDSA', namedCurve: names[curve] ?? curve };
    }
    case 'rsa':
    case 'rsa-pss':
      return { algorithm: 'RSA' };
    case 'ed25519':
      return { algorithm: 'Ed25519' };
    default:
      return { algorithm: 'other' };
  }
}

const EXTENSION_REQUEST = '06092a864886f70d01090e'; // PKCS#9 extensionRequest
const SUBJECT_ALT_NAME = '0603551d11';

// attributes [0] { Attribute SEQUENCE { type, values SET { Extensions SEQUENCE { Extension... } } } }: the SANs.
function requestedNames(bytes: Uint8Array, attributes: Tlv): SubjectAltNames {
  const names = emptyNames();
  for (const attribute of childrenOf(bytes, attributes)) {
    const [type, values] = childrenOf(bytes, attribute);
    if (type === undefined || values === undefined || hex(rawOf(bytes, type)) !== EXTENSION_REQUEST) continue;
    for (const extensions of childrenOf(bytes, values)) {
      for (const extension of childrenOf(bytes, extensions)) {
        const fields = childrenOf(bytes, extension);
        const [type, value] = [fields[0], fields.at(-1)];
        if (type === undefined || value === undefined || hex(rawOf(bytes, type)) !== SUBJECT_ALT_NAME) continue;
        addGeneralNames(names, bytes, readTlv(bytes, value.start, value.end));
      }
    }
  }
  return names;
}
