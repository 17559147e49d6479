// The fixed template of a workload leaf, assembled in DER: nothing in it comes from the CSR but the public key.
import { type CertificateValidity, identityName, spiffeUri, type WorkloadIdentity } from '@weft/core';
import { createHash, sign } from 'node:crypto';
import type { LoadedSigner } from './ca-material.js';
import { childrenOf, hexBytes, readTlv, rawOf, sequence, TAG, tlv, x509Time } from './der.js';
import { subjectKeyIdentifierOf } from './parsed-certificate.js';
import { randomSerialNumber } from './serial-number.js';

/** A signed leaf: its DER, serial (hex) and validity as encoded (whole seconds). */
export interface SignedLeaf {
  readonly der: Uint8Array;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

const bytes = (...values: number[]) => Uint8Array.from(values);
const oid = (...values: number[]) => tlv(TAG.oid, bytes(...values));

const ECDSA_WITH_SHA256 = sequence(oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02));
const CRITICAL = tlv(TAG.boolean, bytes(0xff));
const VERSION_3 = tlv(0xa0, tlv(TAG.integer, bytes(0x02)));
const EMPTY_NAME = sequence();
const SERVER_AUTH = oid(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01);
const CLIENT_AUTH = oid(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02);
const id = (last: number) => oid(0x55, 0x1d, last);

function extension(type: Uint8Array, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(type, CRITICAL, tlv(TAG.octetString, value)) : sequence(type, tlv(TAG.octetString, value));
}

// The extensions every leaf shares: CA=false (critical), digitalSignature (critical), serverAuth + clientAuth.
const BASIC_CONSTRAINTS = extension(id(0x13), true, sequence());
const KEY_USAGE = extension(id(0x0f), true, tlv(TAG.bitString, bytes(0x07, 0x80)));
const EXTENDED_KEY_USAGE = extension(id(0x25), false, sequence(SERVER_AUTH, CLIENT_AUTH));

/** What a leaf takes from its issuer, computed once per issuer. */
interface IssuerTemplate {
  readonly subject: Uint8Array;
  readonly authorityKeyIdentifier: Uint8Array;
}

const templates = new WeakMap<LoadedSigner, IssuerTemplate>();

function issuerTemplate(issuer: LoadedSigner): IssuerTemplate {
  let template = templates.get(issuer);
  if (template === undefined) {
    const { der } = issuer.certificate;
    const tbs = childrenOf(der, readTlv(der, 0))[0];
    const fields = tbs === undefined ? [] : childrenOf(der, tbs);
    const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
    if (subject === undefined) throw new Error('the issuer certificate has no subject');
    const spki = fields[fields[0]?.tag === 0xa0 ? 6 : 5];
    const issuerKey = spki === undefined ? new Uint8Array() : rawOf(der, spki);
    const keyId = subjectKeyIdentifierOf(issuer.certificate) ?? keyIdentifier(issuerKey);
    template = {
      subject: rawOf(der, subject),
      authorityKeyIdentifier: extension(id(0x23), false, sequence(tlv(0x80, keyId))),
    };
    templates.set(issuer, template);
  }
  return template;
}

/** RFC 5280 key identifier (method 1): the SHA-1 of the subjectPublicKey bits of a SubjectPublicKeyInfo. */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const [, bits] = childrenOf(spki, readTlv(spki, 0));
  const key = bits === undefined ? spki : spki.subarray(bits.start + 1, bits.end);
  return createHash('sha1').update(key).digest();
}

/**
 * Signs a leaf for `identity` over the public key `spki` (a DER SubjectPublicKeyInfo): empty subject, so the SAN
 * extension is critical and holds exactly the DNS SAN identityName() and the URI SAN spiffeUri(); CA=false (critical);
 * key usage digitalSignature (critical); extended key usage serverAuth + clientAuth; subject and authority key
 * identifiers; a random 16-byte serial; ECDSA-SHA256 by the issuer. `validity` must be in whole seconds.
 */
export function signWorkloadLeaf(
  spki: Uint8Array,
  identity: WorkloadIdentity,
  validity: CertificateValidity,
  issuer: LoadedSigner,
): SignedLeaf {
  const template = issuerTemplate(issuer);
  const serial = randomSerialNumber();
  const names = sequence(tlv(0x82, ia5(identityName(identity))), tlv(0x86, ia5(spiffeUri(identity))));
  const extensions = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXTENDED_KEY_USAGE,
    extension(id(0x11), true, names),
    extension(id(0x0e), false, tlv(TAG.octetString, keyIdentifier(spki))),
    template.authorityKeyIdentifier,
  ];
  const tbs = sequence(
    VERSION_3,
    tlv(TAG.integer, hexBytes(serial)),
    ECDSA_WITH_SHA256,
    template.subject,
    sequence(x509Time(validity.notBefore), x509Time(validity.notAfter)),
    EMPTY_NAME,
    spki,
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer.keyObject);
  const der = sequence(tbs, ECDSA_WITH_SHA256, tlv(TAG.bitString, bytes(0x00), signature));
  return { der, serial, notBefore: validity.notBefore, notAfter: validity.notAfter };
}

// IA5String content; identity names and SPIFFE IDs are printable ASCII by construction.
function ia5(text: string): Uint8Array {
  if (!/^[\x21-\x7e]+$/.test(text)) throw new RangeError(`${JSON.stringify(text)} is not printable ASCII`);
  return new TextEncoder().encode(text);
}
