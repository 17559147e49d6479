import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRUST_DOMAIN,
  identityName,
  type IdentityPart,
  InvalidIdentityError,
  makeWorkloadIdentity,
  parseIdentityName,
  parseSpiffeUri,
  sameIdentity,
  spiffeUri,
  type WorkloadIdentity,
} from './workload-identity.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' };

function expectRefusal(
  result: ReturnType<typeof parseSpiffeUri>,
  input: string,
  part: IdentityPart,
  mentions: string[] = [],
): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error).toBeInstanceOf(InvalidIdentityError);
  expect(result.error.input).toBe(input);
  expect(result.error.part).toBe(part);
  expect(result.error.toString()).toContain(`invalid identity ${JSON.stringify(input)}`);
  for (const text of mentions) expect(result.error.message).toContain(text);
}

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?$/);
const workloadIdentity = fc.record({
  trustDomain: fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
  namespace: label,
  serviceAccount: label,
});

describe('spiffeUri and identityName', () => {
  it('spell an identity as a SPIFFE URI and as the DNS-like name used for SNI', () => {
    expect(spiffeUri(web)).toBe('spiffe://cluster.local/ns/emojivoto/sa/web');
    expect(identityName(web)).toBe('web.emojivoto.serviceaccount.identity.weft.cluster.local');
  });

  it('default to the cluster.local trust domain', () => {
    expect(DEFAULT_TRUST_DOMAIN).toBe('cluster.local');
  });

  it('both read back to the same identity', () => {
    fc.assert(
      fc.property(workloadIdentity, (id) => {
        expect(parseSpiffeUri(spiffeUri(id))).toEqual({ ok: true, value: id });
        expect(parseIdentityName(identityName(id))).toEqual({ ok: true, value: id });
      }),
    );
  });
});

describe('makeWorkloadIdentity', () => {
  it('accepts RFC 1123 labels and a DNS trust domain, keeping only the three parts', () => {
    const extra = { ...web, pod: 'web-1' };
    expect(makeWorkloadIdentity(extra)).toEqual({ ok: true, value: web });
  });

  it.each<[Partial<WorkloadIdentity>, IdentityPart, string, string]>([
    [{ namespace: 'Emojivoto' }, 'namespace', 'Emojivoto', 'write "emojivoto"'],
    [{ namespace: 'emoji_voto' }, 'namespace', 'emoji_voto', 'RFC 1123 label'],
    [{ namespace: '-emojivoto' }, 'namespace', '-emojivoto', 'RFC 1123 label'],
    [{ namespace: '' }, 'namespace', '', 'is empty'],
    [{ namespace: 'a'.repeat(64) }, 'namespace', 'a'.repeat(64), 'at most 63'],
    [{ serviceAccount: 'web.v2' }, 'service-account', 'web.v2', 'RFC 1123 label'],
    [{ trustDomain: 'cluster..local' }, 'trust-domain', 'cluster..local', 'empty label'],
    [{ trustDomain: 'Cluster.Local' }, 'trust-domain', 'Cluster.Local', 'write "cluster.local"'],
    [{ trustDomain: 'cluster.local.' }, 'trust-domain', 'cluster.local.', 'trailing "."'],
    [{ trustDomain: 'cluster_local' }, 'trust-domain', 'cluster_local', 'a trust domain is a DNS name'],
    [{ trustDomain: `${'a'.repeat(64)}.local` }, 'trust-domain', `${'a'.repeat(64)}.local`, 'at most 63'],
  ])('refuses %j as the %s, naming the value', (change, part, input, says) => {
    const result = makeWorkloadIdentity({ ...web, ...change });
    expectRefusal(result, input, part, [says]);
  });

  it('refuses parts whose identity name would be longer than a DNS name may be', () => {
    const trustDomain = Array.from({ length: 4 }, () => 'd'.repeat(60)).join('.');
    const result = makeWorkloadIdentity({ ...web, trustDomain });
    expectRefusal(result, identityName({ ...web, trustDomain }), 'length', ['253']);
  });
});

describe('parseSpiffeUri', () => {
  it('reads a workload SPIFFE ID', () => {
    expect(parseSpiffeUri('spiffe://example.org/ns/prod/sa/api-1')).toEqual({
      ok: true,
      value: { trustDomain: 'example.org', namespace: 'prod', serviceAccount: 'api-1' },
    });
  });

  it.each<[string, IdentityPart, string]>([
    ['', 'form', 'not a URI'],
    ['cluster.local/ns/default/sa/web', 'form', 'not a URI'],
    ['https://cluster.local/ns/default/sa/web', 'scheme', '"https"'],
    ['SPIFFE://cluster.local/ns/default/sa/web', 'scheme', 'lowercase'],
    ['spiffe://cluster.local/ns/default/sa/web?x=1', 'query', 'query'],
    ['spiffe://cluster.local/ns/default/sa/web#top', 'fragment', 'fragment'],
    ['spiffe://cluster.local:8443/ns/default/sa/web', 'port', 'port'],
    ['spiffe://admin@cluster.local/ns/default/sa/web', 'userinfo', 'userinfo'],
    ['spiffe://cluster.local', 'path', 'no path'],
    ['spiffe://cluster.local/', 'path', 'no path'],
    ['spiffe://cluster.local/ns/default/sa/web/', 'path', 'trailing slash'],
    ['spiffe://cluster.local/ns/default/sa/web/extra', 'path', 'remove "/extra"'],
    ['spiffe://cluster.local/sa/web/ns/default', 'path', '"/sa/web/ns/default"'],
    ['spiffe://cluster.local/ns/default', 'path', '/ns/<namespace>/sa/<service-account>'],
    ['spiffe:///ns/default/sa/web', 'trust-domain', 'is empty'],
    ['spiffe://Cluster.Local/ns/default/sa/web', 'trust-domain', 'write "cluster.local"'],
    ['spiffe://cluster_local/ns/default/sa/web', 'trust-domain', '"cluster_local"'],
    ['spiffe://cluster.local/ns/Default/sa/web', 'namespace', 'namespace "Default"'],
    ['spiffe://cluster.local/ns//sa/web', 'namespace', 'is empty'],
    ['spiffe://cluster.local/ns/default/sa/We%62', 'service-account', 'service account "We%62"'],
    ['spiffe://cluster.local/ns/default/sa/web\u0000', 'service-account', 'web\\u0000'],
  ])('refuses %j (bad %s)', (uri, part, says) => {
    expectRefusal(parseSpiffeUri(uri), uri, part, [says]);
  });

  it('refuses a URI longer than the 2048 characters of a SPIFFE ID', () => {
    const uri = `spiffe://cluster.local/ns/default/sa/${'w'.repeat(2100)}`;
    expectRefusal(parseSpiffeUri(uri), uri, 'length', ['2048']);
  });

  it('refuses an identity of another trust domain when the caller names its own', () => {
    const uri = 'spiffe://other.example/ns/default/sa/web';
    expect(parseSpiffeUri(uri, { trustDomain: 'other.example' }).ok).toBe(true);
    expectRefusal(parseSpiffeUri(uri, { trustDomain: 'cluster.local' }), uri, 'trust-domain', [
      '"other.example"',
      '"cluster.local"',
    ]);
  });

  it('never throws, and accepts only the canonical spelling', () => {
    const near = fc.oneof(
      fc.string(),
      fc.string().map((s) => `spiffe://${s}`),
      fc.string().map((s) => `spiffe://cluster.local/ns/${s}/sa/web`),
    );
    fc.assert(
      fc.property(near, (text) => {
        const result = parseSpiffeUri(text);
        if (result.ok) expect(spiffeUri(result.value)).toBe(text);
        else expect(result.error.input).toBe(text);
      }),
    );
  });
});

describe('parseIdentityName', () => {
  it('reads a DNS-like identity name, with a multi-label trust domain', () => {
    expect(parseIdentityName('api.prod.serviceaccount.identity.weft.mesh.example.org')).toEqual({
      ok: true,
      value: { trustDomain: 'mesh.example.org', namespace: 'prod', serviceAccount: 'api' },
    });
  });

  it.each<[string, IdentityPart, string]>([
    ['', 'form', 'not an identity name'],
    ['web', 'form', 'not an identity name'],
    ['web.default.svc.cluster.local', 'form', '<service-account>.<namespace>.serviceaccount.identity.weft'],
    ['web.default.SERVICEACCOUNT.identity.weft.cluster.local', 'form', 'lowercase'],
    ['web.default.serviceaccount.identity.weft', 'trust-domain', 'no trust domain'],
    ['web.default.serviceaccount.identity.weft.', 'trust-domain', 'no trust domain'],
    ['web.default.serviceaccount.identity.weft.cluster..local', 'trust-domain', 'empty label'],
    ['Web.default.serviceaccount.identity.weft.cluster.local', 'service-account', 'service account "Web"'],
    ['web.de_fault.serviceaccount.identity.weft.cluster.local', 'namespace', 'namespace "de_fault"'],
  ])('refuses %j (bad %s)', (name, part, says) => {
    expectRefusal(parseIdentityName(name), name, part, [says]);
  });

  it('refuses an identity of another trust domain when the caller names its own', () => {
    const name = 'web.default.serviceaccount.identity.weft.other.example';
    expectRefusal(parseIdentityName(name, { trustDomain: 'cluster.local' }), name, 'trust-domain', ['other.example']);
  });

  it('never throws, and accepts only the canonical spelling', () => {
    const near = fc.oneof(fc.string(), fc.string().map((s) => `web.${s}.serviceaccount.identity.weft.cluster.local`));
    fc.assert(
      fc.property(near, (text) => {
        const result = parseIdentityName(text);
        if (result.ok) expect(identityName(result.value)).toBe(text);
        else expect(result.error.input).toBe(text);
      }),
    );
  });
});

describe('sameIdentity', () => {
  it('compares all three parts', () => {
    expect(sameIdentity(web, { ...web })).toBe(true);
    expect(sameIdentity(web, { ...web, trustDomain: 'example.org' })).toBe(false);
    expect(sameIdentity(web, { ...web, namespace: 'prod' })).toBe(false);
    expect(sameIdentity(web, { ...web, serviceAccount: 'api' })).toBe(false);
  });
});
