import { describe, expect, it } from 'vitest';
import { parseCidr } from './cidr.js';
import { defaultInboundServerPolicy } from './inbound-server-policy.js';
import { unwrap } from '../shared/result.js';

describe('defaultInboundServerPolicy', () => {
  it('detects the protocol and names the default policy as the server', () => {
    const policy = defaultInboundServerPolicy(8080, 'all-unauthenticated');
    expect(policy).toMatchObject({
      port: 8080,
      protocol: 'unknown',
      server: { kind: 'default', name: 'all-unauthenticated' },
      httpRoutes: [],
      audit: false,
    });
    expect(policy.authorizations.map((a) => a.name)).toEqual(['all-unauthenticated']);
  });

  it('uses the given cluster networks for cluster policies', () => {
    const policy = defaultInboundServerPolicy(80, 'cluster-authenticated', [unwrap(parseCidr('10.0.0.0/8'))]);
    expect(policy.authorizations[0]?.networks).toEqual([{ cidr: unwrap(parseCidr('10.0.0.0/8')), except: [] }]);
  });

  it('marks audit and denies with deny', () => {
    expect(defaultInboundServerPolicy(80, 'audit')).toMatchObject({ audit: true, authorizations: [] });
    expect(defaultInboundServerPolicy(80, 'deny')).toMatchObject({ audit: false, authorizations: [], server: { name: 'deny' } });
  });
});
