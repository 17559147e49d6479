import { describe, expect, it } from 'vitest';
import { admitCsr, type CsrFacts, CsrRefusal, type CsrRefusalCode } from './csr-rules.js';
import { identityName, spiffeUri, type WorkloadIdentity } from './workload-identity.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' };
const name = identityName(web);
const uri = spiffeUri(web);
const api = { ...web, serviceAccount: 'api' };
const good: CsrFacts = {
  signatureValid: true,
  keyAlgorithm: 'ECDSA',
  namedCurve: 'P-256',
  dnsNames: [name],
  uris: [uri],
  ipAddresses: [],
  emailAddresses: [],
};

function expectRefused(facts: CsrFacts, code: CsrRefusalCode, input: string, proven = web): CsrRefusal {
  const result = admitCsr(facts, web, proven);
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('admitted');
  expect(result.error).toBeInstanceOf(CsrRefusal);
  expect(result.error.code).toBe(code);
  expect(result.error.input).toBe(input);
  expect(result.error.toString()).toContain(`invalid CSR ${JSON.stringify(input)}`);
  return result.error;
}

describe('admitCsr', () => {
  it.each<[string, Partial<CsrFacts>]>([
    ['the identity name and the SPIFFE URI', {}],
    ['only the identity name', { uris: [] }],
    ['only the SPIFFE URI', { dnsNames: [] }],
  ])('admits an ECDSA P-256 CSR carrying %s', (_, change) => {
    expect(admitCsr({ ...good, ...change }, web, { ...web })).toEqual({ ok: true, value: undefined });
  });

  it('refuses a CSR whose signature does not verify: no proof of possession', () => {
    const refusal = expectRefused({ ...good, signatureValid: false }, 'bad-signature', name);
    expect(refusal.message).toContain('proves no possession of the private key');
  });

  it.each<[Partial<CsrFacts>, string]>([
    [{ keyAlgorithm: 'RSA' }, 'RSA'],
    [{ keyAlgorithm: 'Ed25519' }, 'Ed25519'],
    [{ keyAlgorithm: 'other' }, 'other'],
    [{ namedCurve: 'P-384' }, 'ECDSA P-384'],
    [{ namedCurve: 'secp256k1' }, 'ECDSA secp256k1'],
  ])('refuses the key %j, naming it', (change, key) => {
    const refusal = expectRefused({ ...good, ...change }, 'unsupported-key', key);
    expect(refusal.message).toContain('ECDSA on curve P-256');
  });

  it('refuses an ECDSA key without a named curve', () => {
    const { namedCurve: _, ...withoutCurve } = good;
    expectRefused(withoutCurve, 'unsupported-key', 'ECDSA on an unnamed curve');
  });

  it('refuses an identity that the token does not prove, naming both', () => {
    const refusal = expectRefused(good, 'identity-not-proven', name, api);
    expect(refusal.message).toContain(identityName(api));
  });

  it.each<[string, Partial<CsrFacts>, string]>([
    ['an extra DNS name', { dnsNames: [name, 'evil.example.com'] }, 'evil.example.com'],
    ['another identity name', { dnsNames: [identityName(api)] }, identityName(api)],
    ['an uppercase spelling', { dnsNames: [name.toUpperCase()] }, name.toUpperCase()],
    ['a name with a NUL byte', { dnsNames: [`${name}\u0000.evil.example.com`] }, `${name}\u0000.evil.example.com`],
    ['another SPIFFE URI', { uris: [spiffeUri(api)] }, spiffeUri(api)],
    ['an extra URI', { uris: [uri, 'https://example.com'] }, 'https://example.com'],
    ['the name twice', { dnsNames: [name, name] }, name],
    ['the URI twice', { uris: [uri, uri] }, uri],
    ['no identity at all', { dnsNames: [], uris: [] }, name],
  ])('refuses a CSR with %s', (_, change, offending) => {
    const refusal = expectRefused({ ...good, ...change }, 'san-mismatch', offending);
    expect(refusal.message).toContain(JSON.stringify(offending));
  });

  it.each<[Partial<CsrFacts>, string]>([
    [{ ipAddresses: ['10.0.0.7'] }, '10.0.0.7'],
    [{ ipAddresses: ['::1'], emailAddresses: ['root@example.com'] }, '::1'],
    [{ emailAddresses: ['root@example.com'] }, 'root@example.com'],
  ])('refuses IP and email SANs: %j', (change, offending) => {
    const refusal = expectRefused({ ...good, ...change }, 'forbidden-san', offending);
    expect(refusal.message).toContain(JSON.stringify(offending));
  });

  it('reports the first failing rule, in the documented order', () => {
    let facts: CsrFacts = {
      signatureValid: false,
      keyAlgorithm: 'RSA',
      dnsNames: ['evil.example.com'],
      uris: [],
      ipAddresses: ['10.0.0.7'],
      emailAddresses: [],
    };
    const codes: (CsrRefusalCode | 'admitted')[] = [];
    const record = (proven: WorkloadIdentity) => {
      const result = admitCsr(facts, web, proven);
      codes.push(result.ok ? 'admitted' : result.error.code);
    };
    record(api);
    facts = { ...facts, signatureValid: true };
    record(api);
    facts = { ...facts, keyAlgorithm: 'ECDSA', namedCurve: 'P-256' };
    record(api);
    record(web);
    facts = { ...facts, dnsNames: [name] };
    record(web);
    facts = { ...facts, ipAddresses: [] };
    record(web);
    expect(codes).toEqual([
      'bad-signature',
      'unsupported-key',
      'identity-not-proven',
      'san-mismatch',
      'forbidden-san',
      'admitted',
    ]);
  });
});
