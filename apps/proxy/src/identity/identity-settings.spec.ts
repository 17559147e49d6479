import { describe, expect, it } from 'vitest';
import { describeProxyConfig, PROXY_ENV_DEFAULTS, ProxyConfigError, readProxyConfig } from '../proxy-config.js';

const SECRET = 'weft-token.s3cr3t-value';

/** The problems readProxyConfig reports for `env`; fails the test if it accepts it. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readProxyConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyConfigError);
    return (error as ProxyConfigError).problems;
  }
  throw new Error(`readProxyConfig accepted ${JSON.stringify(env)}`);
}

const complete = {
  WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
  WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web',
  WEFT_PROXY_IDENTITY_TOKEN_FILE: '/var/run/secrets/tokens/weft-identity-token',
  WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '/var/run/weft/identity/trust-anchors.pem',
};

describe('identity settings', () => {
  it('leave the proxy without identity by default', () => {
    expect(readProxyConfig({}).identity).toBeUndefined();
    expect(Object.keys(describeProxyConfig(readProxyConfig({})))).not.toContain('identity');
  });

  it('are listed with their defaults', () => {
    expect(PROXY_ENV_DEFAULTS.WEFT_PROXY_IDENTITY_ADDR).toBe('127.0.0.1:8086');
    expect(PROXY_ENV_DEFAULTS.WEFT_PROXY_IDENTITY_TRUST_DOMAIN).toBe('cluster.local');
  });

  it('read namespace and service account, the token file, the anchors and the default certifier address', () => {
    const config = readProxyConfig(complete);
    expect(config.identity).toEqual({
      identity: { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' },
      token: { kind: 'file', path: '/var/run/secrets/tokens/weft-identity-token' },
      trustAnchorsFile: '/var/run/weft/identity/trust-anchors.pem',
      certifierAddr: { ip: '127.0.0.1', port: 8086 },
    });
    expect(describeProxyConfig(config)).toMatchObject({
      identity: 'web.shop.serviceaccount.identity.weft.cluster.local',
      identityToken: 'file /var/run/secrets/tokens/weft-identity-token',
      identityTrustAnchors: '/var/run/weft/identity/trust-anchors.pem',
      identityCertifier: '127.0.0.1:8086',
    });
  });

  it('read the DNS-like identity name, a trust domain, an inline token and an address', () => {
    const config = readProxyConfig({
      WEFT_PROXY_IDENTITY_NAME: 'books.shop.serviceaccount.identity.weft.example.org',
      WEFT_PROXY_IDENTITY_TRUST_DOMAIN: 'example.org',
      WEFT_PROXY_IDENTITY_TOKEN: SECRET,
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '/tmp/anchors.pem',
      WEFT_PROXY_IDENTITY_ADDR: '[::1]:18086',
    });
    expect(config.identity?.identity).toEqual({ trustDomain: 'example.org', namespace: 'shop', serviceAccount: 'books' });
    expect(config.identity?.token).toEqual({ kind: 'inline', value: SECRET });
    expect(config.identity?.certifierAddr).toEqual({ ip: '::1', port: 18086 });
    expect(JSON.stringify(describeProxyConfig(config))).not.toContain(SECRET);
    expect(describeProxyConfig(config)['identityToken']).toBe('inline');
  });

  it('take the trust domain from the identity name when none is set', () => {
    const config = readProxyConfig({ ...complete, WEFT_PROXY_IDENTITY_NAMESPACE: '', WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: '', WEFT_PROXY_IDENTITY_NAME: 'web.shop.serviceaccount.identity.weft.mesh.test' });
    expect(config.identity?.identity.trustDomain).toBe('mesh.test');
  });
});

describe('bad identity settings', () => {
  it.each([
    [{ ...complete, WEFT_PROXY_IDENTITY_NAMESPACE: 'Shop' }, /^WEFT_PROXY_IDENTITY_NAMESPACE="Shop": .*namespace/],
    [{ ...complete, WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web_1' }, /^WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT="web_1": .*service account/],
    [{ ...complete, WEFT_PROXY_IDENTITY_TRUST_DOMAIN: 'cluster..local' }, /^WEFT_PROXY_IDENTITY_TRUST_DOMAIN="cluster\.\.local": .*trust domain/],
    [{ ...complete, WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: '' }, /^WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT is not set; .*WEFT_PROXY_IDENTITY_NAME/],
    [{ ...complete, WEFT_PROXY_IDENTITY_NAME: 'web.shop.serviceaccount.identity.weft.cluster.local' }, /^WEFT_PROXY_IDENTITY_NAME: set either the identity name or .*, not both/],
    [{ ...complete, WEFT_PROXY_IDENTITY_TOKEN_FILE: '' }, /^WEFT_PROXY_IDENTITY_TOKEN_FILE is not set; .*WEFT_PROXY_IDENTITY_TOKEN\b/],
    [{ ...complete, WEFT_PROXY_IDENTITY_TOKEN: SECRET }, /^WEFT_PROXY_IDENTITY_TOKEN_FILE and WEFT_PROXY_IDENTITY_TOKEN are both set/],
    [{ ...complete, WEFT_PROXY_IDENTITY_TOKEN_FILE: '', WEFT_PROXY_IDENTITY_TOKEN: '  ' }, /^WEFT_PROXY_IDENTITY_TOKEN is blank/],
    [{ ...complete, WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '' }, /^WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE is not set; .*PEM file/],
    [{ ...complete, WEFT_PROXY_IDENTITY_ADDR: 'identity.weft:8086' }, /^WEFT_PROXY_IDENTITY_ADDR="identity\.weft:8086": .*expected ip:port, e\.g\. 127\.0\.0\.1:8086/],
    [{ WEFT_PROXY_IDENTITY_TOKEN_FILE: '/t' }, /^WEFT_PROXY_IDENTITY_TOKEN_FILE is set but the proxy has no identity; set WEFT_PROXY_IDENTITY_NAME/],
  ])('%o is refused, naming the variable', (env, expected) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('refuse an identity name that is not one, or of another trust domain', () => {
    const base = { ...complete, WEFT_PROXY_IDENTITY_NAMESPACE: '', WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: '' };
    expect(problemsOf({ ...base, WEFT_PROXY_IDENTITY_NAME: 'web.shop.svc.cluster.local' })[0]).toMatch(
      /^WEFT_PROXY_IDENTITY_NAME="web\.shop\.svc\.cluster\.local": is not an identity name; write/,
    );
    const foreign = problemsOf({ ...base, WEFT_PROXY_IDENTITY_NAME: 'web.shop.serviceaccount.identity.weft.other.org', WEFT_PROXY_IDENTITY_TRUST_DOMAIN: 'cluster.local' });
    expect(foreign[0]).toMatch(/^WEFT_PROXY_IDENTITY_NAME=.*"other\.org".*"cluster\.local" \(set by WEFT_PROXY_IDENTITY_TRUST_DOMAIN\)$/);
  });

  it('never repeat the inline token in a problem', () => {
    const problems = problemsOf({ WEFT_PROXY_IDENTITY_TOKEN: SECRET, WEFT_PROXY_IDENTITY_ADDR: 'nowhere' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain(SECRET);
  });

  it('are reported together with the other bad settings', () => {
    const problems = problemsOf({ ...complete, WEFT_PROXY_IDENTITY_NAMESPACE: 'Shop', WEFT_PROXY_ADMIN_ADDR: 'admin' });
    expect(problems.map((problem) => problem.split(/[=: ]/)[0])).toEqual(['WEFT_PROXY_ADMIN_ADDR', 'WEFT_PROXY_IDENTITY_NAMESPACE']);
  });
});
