import { describe, expect, it } from 'vitest';
import { unwrap } from '../shared/result.js';
import { DEFAULT_ENDPOINT_WEIGHT, InvalidEndpointError, makeEndpoint, type EndpointInit } from './endpoint.js';

describe('makeEndpoint', () => {
  it('fills in the default weight and empty labels', () => {
    expect(unwrap(makeEndpoint({ address: '10.0.0.1:8080' }))).toEqual({
      address: { ip: '10.0.0.1', port: 8080 },
      weight: DEFAULT_ENDPOINT_WEIGHT,
      labels: {},
    });
    expect(DEFAULT_ENDPOINT_WEIGHT).toBe(10_000);
  });

  it('keeps weight, labels, identity and hint, with the IP and identity in canonical form', () => {
    const endpoint = unwrap(
      makeEndpoint({
        address: { ip: '2001:DB8:0:0::1', port: 443 },
        weight: 0,
        labels: { pod: 'web-1', zone: 'a' },
        tlsIdentity: 'Web.Shop.ServiceAccount.identity.weft.cluster.local.',
        protocolHint: 'h2',
        proxyInboundPort: 4243,
      }),
    );
    expect(endpoint).toEqual({
      address: { ip: '2001:db8::1', port: 443 },
      weight: 0,
      labels: { pod: 'web-1', zone: 'a' },
      tlsIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local',
      protocolHint: 'h2',
      proxyInboundPort: 4243,
    });
  });

  it('does not share the labels object it was given', () => {
    const labels: Record<string, string> = { pod: 'web-1' };
    const endpoint = unwrap(makeEndpoint({ address: '10.0.0.1:80', labels }));
    labels['pod'] = 'changed';
    expect(endpoint.labels).toEqual({ pod: 'web-1' });
    expect(Object.isFrozen(endpoint.labels)).toBe(true);
  });

  it.each<[EndpointInit, string, RegExp]>([
    [{ address: '10.0.0.1:80', weight: -1 }, '10.0.0.1:80', /weight -1 is not a whole number/],
    [{ address: '10.0.0.1:80', weight: 1.5 }, '10.0.0.1:80', /weight 1.5/],
    [{ address: '10.0.0.1:80', weight: Number.NaN }, '10.0.0.1:80', /weight NaN/],
    [{ address: '10.0.0.1:80', weight: 2 ** 32 }, '10.0.0.1:80', /from 0 to 4294967295/],
    [{ address: { ip: '10.0.0.1', port: 0 } }, '10.0.0.1:0', /port 0 is out of range/],
    [{ address: { ip: '10.0.0.1', port: 70_000 } }, '10.0.0.1:70000', /port 70000 is out of range/],
    [{ address: { ip: '10.0.0.1', port: 80.5 } }, '10.0.0.1:80.5', /port 80.5 is out of range/],
    [{ address: { ip: '10.0.0.300', port: 80 } }, '10.0.0.300:80', /IP "10.0.0.300" is not valid/],
    [{ address: { ip: 'web', port: 80 } }, 'web:80', /IP "web" is not valid/],
    [{ address: '10.0.0.1:0' }, '10.0.0.1:0', /out of range/],
    [{ address: 'web.shop:80' }, 'web.shop:80', /not an IP address/],
    [{ address: '10.0.0.1:80', tlsIdentity: 'not an identity' }, '10.0.0.1:80', /TLS identity "not an identity"/],
    [{ address: '10.0.0.1:80', tlsIdentity: '10.0.0.1' }, '10.0.0.1:80', /not a DNS-like name/],
    [{ address: '10.0.0.1:80', tlsIdentity: 'web.shop:80' }, '10.0.0.1:80', /not a DNS-like name/],
    [{ address: '10.0.0.1:80', proxyInboundPort: 0 }, '10.0.0.1:80', /proxy inbound port 0 is out of range/],
    [{ address: '10.0.0.1:80', proxyInboundPort: 65_536 }, '10.0.0.1:80', /proxy inbound port 65536/],
  ])('refuses %j', (init, input, reason) => {
    const result = makeEndpoint(init);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidEndpointError);
    expect(result.error.input).toBe(input);
    expect(result.error.toString()).toContain(`invalid endpoint ${JSON.stringify(input)}`);
    expect(result.error.reason).toMatch(reason);
  });
});
