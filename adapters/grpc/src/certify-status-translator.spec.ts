import { Metadata, status } from '@grpc/grpc-js';
import { CertifyRefusal, type CertifyWorkloadRequest, InvalidIdentityError, TokenRefusal } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { certifyRefusalFromStatus, certifyRefusalToStatus, REFUSAL_TRAILER } from './certify-status-translator.js';

const request: CertifyWorkloadRequest = {
  identityName: 'web.shop.serviceaccount.identity.weft.cluster.local',
  token: 'the-secret-token',
  csr: new Uint8Array(),
};

function trailer(value: string): Metadata {
  const metadata = new Metadata();
  metadata.set(REFUSAL_TRAILER, value);
  return metadata;
}

describe('certifyRefusalToStatus', () => {
  it.each([
    [new CertifyRefusal('malformed-csr', 'x'), status.INVALID_ARGUMENT, 'certify/malformed-csr'],
    [new CertifyRefusal('bad-signature', 'x'), status.INVALID_ARGUMENT, 'certify/bad-signature'],
    [new InvalidIdentityError('web', 'form', 'x'), status.INVALID_ARGUMENT, 'identity/form'],
    [new TokenRefusal('invalid', 'x'), status.UNAUTHENTICATED, 'token/invalid'],
    [new TokenRefusal('expired', 'x'), status.UNAUTHENTICATED, 'token/expired'],
    [new TokenRefusal('revoked', 'x'), status.UNAUTHENTICATED, 'token/revoked'],
    [new TokenRefusal('unavailable', 'x'), status.UNAVAILABLE, 'token/unavailable'],
    [new CertifyRefusal('identity-not-proven', 'x'), status.PERMISSION_DENIED, 'certify/identity-not-proven'],
    [new CertifyRefusal('unsupported-key', 'x'), status.FAILED_PRECONDITION, 'certify/unsupported-key'],
    [new CertifyRefusal('san-mismatch', 'x'), status.FAILED_PRECONDITION, 'certify/san-mismatch'],
    [new CertifyRefusal('forbidden-san', 'x'), status.FAILED_PRECONDITION, 'certify/forbidden-san'],
    [new CertifyRefusal('issuer-unavailable', 'x'), status.UNAVAILABLE, 'certify/issuer-unavailable'],
    [new CertifyRefusal('rate-limited', 'x'), status.RESOURCE_EXHAUSTED, 'certify/rate-limited'],
  ])('gives %s the status %i', (refusal, code, name) => {
    const answer = certifyRefusalToStatus(refusal, request.token);
    expect(answer.code).toBe(code);
    expect(answer.metadata.get(REFUSAL_TRAILER)).toEqual([name]);
  });

  it('redacts the token should a message carry it', () => {
    const answer = certifyRefusalToStatus(new CertifyRefusal('san-mismatch', `echo ${request.token}`), request.token);
    expect(answer.details).toBe('echo [token]');
  });
});

describe('certifyRefusalFromStatus', () => {
  it('trusts a trailer only when it agrees with the status, else goes by the status', () => {
    const agreed = certifyRefusalFromStatus({ code: status.FAILED_PRECONDITION, details: 'd', metadata: trailer('certify/forbidden-san') }, request, 't');
    expect((agreed as CertifyRefusal).code).toBe('forbidden-san');
    const disagreeing = certifyRefusalFromStatus({ code: status.UNAVAILABLE, details: 'd', metadata: trailer('certify/forbidden-san') }, request, 't');
    expect((disagreeing as CertifyRefusal).code).toBe('unreachable');
    const unknown = certifyRefusalFromStatus({ code: status.FAILED_PRECONDITION, details: 'd', metadata: trailer('certify/nope') }, request, 't');
    expect((unknown as CertifyRefusal).code).toBe('san-mismatch');
  });

  it.each([
    [status.INVALID_ARGUMENT, CertifyRefusal, 'malformed-csr'],
    [status.UNAUTHENTICATED, TokenRefusal, 'invalid'],
    [status.PERMISSION_DENIED, CertifyRefusal, 'identity-not-proven'],
    [status.FAILED_PRECONDITION, CertifyRefusal, 'san-mismatch'],
    [status.RESOURCE_EXHAUSTED, CertifyRefusal, 'rate-limited'],
    [status.UNAVAILABLE, CertifyRefusal, 'unreachable'],
    [status.DEADLINE_EXCEEDED, CertifyRefusal, 'unreachable'],
    [status.UNIMPLEMENTED, CertifyRefusal, 'unreachable'],
    [status.INTERNAL, CertifyRefusal, 'unreachable'],
  ])('maps status %i without a trailer to %o %s', (code, kind, refusalCode) => {
    const refusal = certifyRefusalFromStatus({ code, details: `said ${request.token}`, metadata: new Metadata() }, request, '127.0.0.1:8086');
    expect(refusal).toBeInstanceOf(kind);
    expect((refusal as CertifyRefusal | TokenRefusal).code).toBe(refusalCode);
    expect(refusal.message).not.toContain(request.token);
  });

  it("names the address and the status in an 'unreachable' refusal", () => {
    const refusal = certifyRefusalFromStatus({ code: status.UNAVAILABLE, details: 'No connection established', metadata: new Metadata() }, request, '127.0.0.1:8086');
    expect(refusal.message).toBe(
      'the control plane at 127.0.0.1:8086 could not certify (UNAVAILABLE: No connection established); retry later',
    );
  });
});
