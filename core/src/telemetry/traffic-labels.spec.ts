import { describe, expect, it } from 'vitest';
import { routeLabelSet, sanitizeLabelName, trafficLabelSet } from './traffic-labels.js';

describe('trafficLabelSet', () => {
  it('names the client on the inbound side of an mTLS connection', () => {
    expect(
      trafficLabelSet({
        direction: 'inbound',
        targetAddr: '10.0.0.2:8080',
        tls: { tls: 'true', peerIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local' },
      }),
    ).toEqual({
      direction: 'inbound',
      target_addr: '10.0.0.2:8080',
      tls: 'true',
      client_id: 'web.shop.serviceaccount.identity.weft.cluster.local',
    });
  });

  it('names the server on the outbound side and prefixes destination labels with dst_', () => {
    expect(
      trafficLabelSet({
        direction: 'outbound',
        authority: 'books.shop.svc.cluster.local:7000',
        targetAddr: '10.0.0.9:7000',
        tls: { tls: 'true', peerIdentity: 'books.shop.serviceaccount.identity.weft.cluster.local' },
        destination: { service: 'books', namespace: 'shop', 'pod-template-hash': 'abc' },
      }),
    ).toEqual({
      direction: 'outbound',
      authority: 'books.shop.svc.cluster.local:7000',
      target_addr: '10.0.0.9:7000',
      tls: 'true',
      server_id: 'books.shop.serviceaccount.identity.weft.cluster.local',
      dst_service: 'books',
      dst_namespace: 'shop',
      dst_pod_template_hash: 'abc',
    });
  });

  it('says why a connection has no identity', () => {
    expect(
      trafficLabelSet({
        direction: 'outbound',
        targetAddr: '127.0.0.1:9000',
        tls: { tls: 'no_identity', reason: 'not_provided_by_service_discovery' },
      }),
    ).toMatchObject({ tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' });
  });
});

describe('sanitizeLabelName', () => {
  it('keeps valid names and repairs the rest', () => {
    expect(sanitizeLabelName('zone')).toBe('zone');
    expect(sanitizeLabelName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
    expect(sanitizeLabelName('1st')).toBe('_1st');
  });
});

describe('routeLabelSet', () => {
  it('uses dst and rt_route', () => {
    expect(routeLabelSet({ direction: 'outbound', dst: 'books.shop.svc.cluster.local:7000', route: 'GET /books' })).toEqual(
      { direction: 'outbound', dst: 'books.shop.svc.cluster.local:7000', rt_route: 'GET /books' },
    );
  });
});
