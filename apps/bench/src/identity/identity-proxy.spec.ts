import { describe, expect, it } from 'vitest';
import { identityProxyEnv, type IdentityProxyLaunch } from './identity-proxy.js';

const launch: IdentityProxyLaunch = {
  serviceAccount: 'bench',
  tokenFile: '/tmp/run/bench.token',
  trustAnchorsFile: '/tmp/run/identity/ca.crt',
  controlAddr: '127.0.0.1:8086',
  ports: { outbound: 4240, inbound: 4243, tap: 4290, admin: 4291 },
  inboundAppPort: 9000,
  defaultInboundPolicy: 'all-authenticated',
};

describe('identityProxyEnv', () => {
  it('gives a standalone proxy its identity, its certifier and its app, and no control plane for endpoints', () => {
    const env = identityProxyEnv(launch);
    expect(env).toMatchObject({
      WEFT_PROXY_IDENTITY_NAMESPACE: 'default',
      WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'bench',
      WEFT_PROXY_IDENTITY_TOKEN_FILE: '/tmp/run/bench.token',
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '/tmp/run/identity/ca.crt',
      WEFT_PROXY_IDENTITY_ADDR: '127.0.0.1:8086',
      WEFT_PROXY_DEFAULT_INBOUND_POLICY: 'all-authenticated',
      WEFT_PROXY_INBOUND_ADDR: '127.0.0.1:4243',
      WEFT_PROXY_INBOUND_APP_ADDR: '127.0.0.1:9000',
      WEFT_PROXY_ADMIN_ADDR: '127.0.0.1:4291',
    });
    expect(env).not.toHaveProperty('WEFT_PROXY_CONTROL_ADDR');
    expect(env).not.toHaveProperty('WEFT_PROXY_UPSTREAMS');
    expect(env).not.toHaveProperty('WEFT_PROXY_ENDPOINTS');
  });

  it('points a client proxy at the control plane for endpoints, with a listener for the bench service', () => {
    const env = identityProxyEnv({ ...launch, serviceAccount: 'bench-client', upstreamListenPort: 4301 });
    expect(env['WEFT_PROXY_CONTROL_ADDR']).toBe('127.0.0.1:8086');
    expect(env['WEFT_PROXY_UPSTREAMS']).toBe('bench=bench.default.svc.cluster.local:80@4301');
    expect(env).not.toHaveProperty('WEFT_PROXY_ENDPOINTS');
  });

  it('never carries the token itself, only the file it is in', () => {
    expect(identityProxyEnv(launch)).not.toHaveProperty('WEFT_PROXY_IDENTITY_TOKEN');
  });
});
