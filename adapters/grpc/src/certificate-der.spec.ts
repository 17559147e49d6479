import { describe, expect, it } from 'vitest';
import { CertificatePemError, derToPem, pemToDer } from './certificate-der.js';

describe('PEM and DER', () => {
  it('round-trips bytes through PEM with 64-character lines', () => {
    const der = new Uint8Array(Array.from({ length: 200 }, (_, i) => i));
    const pem = derToPem(der);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(pem.endsWith('\n-----END CERTIFICATE-----\n')).toBe(true);
    expect(pem.split('\n').slice(1, -2).every((line) => line.length <= 64)).toBe(true);
    expect(pemToDer(pem)).toEqual(der);
  });

  it('reads a block with CRLF line ends and another label', () => {
    const pem = derToPem(new Uint8Array([1, 2, 3]), 'WEFT MEMORY CERTIFICATE').replaceAll('\n', '\r\n');
    expect(pemToDer(pem)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses text with no block or with two, saying how many it found', () => {
    expect(() => pemToDer('garbage')).toThrow(CertificatePemError);
    expect(() => pemToDer('garbage')).toThrow('expected exactly one PEM block, found 0');
    const two = derToPem(new Uint8Array([1])) + derToPem(new Uint8Array([2]));
    expect(() => pemToDer(two)).toThrow('found 2');
  });
});
