import fc from 'fast-check';
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

describe('trafficLabelSet destination labels that sanitise to the same name', () => {
  const destinationLabels = (destination: Record<string, string>) => {
    const set = trafficLabelSet({ direction: 'outbound', targetAddr: '10.0.0.9:7000', tls: { tls: 'disabled' }, destination });
    return Object.fromEntries(Object.entries(set).filter(([name]) => name.startsWith('dst_')));
  };

  it('keeps the key that is already a valid name, whatever the order discovery lists them in', () => {
    expect(destinationLabels({ 'a-b': 'dash', a_b: 'underscore' })).toEqual({ dst_a_b: 'underscore' });
    expect(destinationLabels({ a_b: 'underscore', 'a-b': 'dash' })).toEqual({ dst_a_b: 'underscore' });
  });

  it('otherwise keeps the lowest key in code-unit order and drops the others', () => {
    expect(destinationLabels({ 'a.b': 'dot', 'a/b': 'slash', 'a-b': 'dash' })).toEqual({ dst_a_b: 'dash' });
    expect(destinationLabels({ 'a-b': 'dash', 'a/b': 'slash', 'a.b': 'dot' })).toEqual({ dst_a_b: 'dash' });
  });

  it('gives the same labels for every order of the same keys, one per sanitised name (property)', () => {
    const key = fc.string({ unit: fc.constantFrom('a', 'b', '-', '_', '.', '1'), minLength: 1, maxLength: 4 });
    const keyValues = fc.uniqueArray(fc.tuple(key, fc.string()), { selector: ([k]) => k, maxLength: 8 });
    const entriesInTwoOrders = keyValues.chain((list) =>
      fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
    );
    fc.assert(
      fc.property(entriesInTwoOrders, ([entries, shuffled]) => {
        const labels = destinationLabels(Object.fromEntries(entries));
        expect(destinationLabels(Object.fromEntries(shuffled))).toEqual(labels);
        expect(destinationLabels(Object.fromEntries([...entries].reverse()))).toEqual(labels);
        const names = new Set(entries.map(([k]) => `dst_${sanitizeLabelName(k)}`));
        expect(Object.keys(labels).sort()).toEqual([...names].sort());
        for (const [name, value] of Object.entries(labels)) {
          expect(entries.some(([k, v]) => `dst_${sanitizeLabelName(k)}` === name && v === value)).toBe(true);
        }
      }),
    );
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
