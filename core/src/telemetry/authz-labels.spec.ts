import { describe, expect, it } from 'vitest';
import { authzLabelSet, authzMetricName, type AuthzLabels } from './authz-labels.js';

const unmeshed: AuthzLabels = {
  protocol: 'http',
  targetAddr: '127.0.0.1:8080',
  tls: { tls: 'no_identity', reason: 'no_tls_from_remote' },
  server: { kind: 'default', name: 'all-unauthenticated', port: 8080 },
  authorization: { kind: 'default', name: 'all-unauthenticated' },
};

describe('authzMetricName', () => {
  it('names the four counters after protocol and verdict', () => {
    expect(authzMetricName('http', true)).toBe('inbound_http_authz_allow_total');
    expect(authzMetricName('http', false)).toBe('inbound_http_authz_deny_total');
    expect(authzMetricName('tcp', true)).toBe('inbound_tcp_authz_allow_total');
    expect(authzMetricName('tcp', false)).toBe('inbound_tcp_authz_deny_total');
  });
});

describe('authzLabelSet', () => {
  it('labels a default policy with an empty group and kind "default"', () => {
    expect(authzLabelSet(unmeshed)).toEqual({
      target_addr: '127.0.0.1:8080',
      tls: 'no_identity',
      no_tls_reason: 'no_tls_from_remote',
      srv_group: '',
      srv_kind: 'default',
      srv_name: 'all-unauthenticated',
      srv_port: '8080',
      authz_group: '',
      authz_kind: 'default',
      authz_name: 'all-unauthenticated',
    });
  });

  it('labels Servers, AuthorizationPolicies and routes with the policy group, and a meshed client by its identity', () => {
    const set = authzLabelSet({
      protocol: 'http',
      targetAddr: '10.0.0.9:7000',
      tls: { tls: 'true', peerIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local' },
      server: { kind: 'Server', name: 'books', port: 7000 },
      authorization: { kind: 'AuthorizationPolicy', name: 'web-only' },
      route: 'books-get',
    });
    expect(set).toMatchObject({
      tls: 'true',
      client_id: 'web.shop.serviceaccount.identity.weft.cluster.local',
      srv_group: 'policy.weft.io',
      srv_kind: 'server',
      authz_kind: 'authorizationpolicy',
      authz_name: 'web-only',
      route_group: 'policy.weft.io',
      route_kind: 'HTTPRoute',
      route_name: 'books-get',
    });
  });

  it('leaves out authz_* on a refusal and route_* when no route matched', () => {
    const { protocol, targetAddr, tls, server } = unmeshed;
    const names = Object.keys(authzLabelSet({ protocol, targetAddr, tls, server }));
    expect(names.filter((name) => name.startsWith('authz_') || name.startsWith('route_'))).toEqual([]);
    expect(names).toContain('srv_name');
  });
});
