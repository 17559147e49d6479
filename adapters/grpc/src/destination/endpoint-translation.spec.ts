import { destination } from '@weft/contracts';
import { type Endpoint, type EndpointUpdate, makeEndpoint, unwrap } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { endpointFromWire, endpointUpdateFromWire } from './endpoint-from-wire.js';
import { endpointToWire, endpointUpdateToWire } from './endpoint-to-wire.js';

const label = fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/);
const dnsLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
const identity = fc.oneof(
  fc.tuple(dnsLabel, dnsLabel).map(([sa, ns]) => `${sa}.${ns}.serviceaccount.identity.weft.cluster.local`),
  fc.tuple(dnsLabel, dnsLabel).map(([host, domain]) => `${host}.${domain}.example`),
);

const anEndpoint: fc.Arbitrary<Endpoint> = fc
  .record(
    {
      ip: fc.oneof(fc.ipV4(), fc.ipV6()),
      port: fc.integer({ min: 1, max: 65_535 }),
      weight: fc.integer({ min: 0, max: 0xffff_ffff }),
      labels: fc.dictionary(label, fc.string({ maxLength: 12 }), { maxKeys: 4 }),
      tlsIdentity: identity,
      protocolHint: fc.constantFrom('http1' as const, 'h2' as const, 'opaque' as const),
      proxyInboundPort: fc.integer({ min: 1, max: 65_535 }),
    },
    { requiredKeys: ['ip', 'port', 'weight', 'labels'] },
  )
  .map(({ ip, port, ...rest }) => unwrap(makeEndpoint({ address: { ip, port }, ...rest })));

/** The wire has no 'http1' hint: no hint means the same (speak as detected). */
function normalized(endpoint: Endpoint): Endpoint {
  if (endpoint.protocolHint !== 'http1') return endpoint;
  const { protocolHint: _dropped, ...rest } = endpoint;
  return rest;
}

/** Through the bytes, as a proxy receives it. */
function overTheWire(update: destination.Update): destination.Update {
  return destination.Update.decode(destination.Update.encode(update).finish());
}

function refusal(result: { ok: boolean; error?: unknown }): InvalidWireMessageError {
  expect(result.ok).toBe(false);
  expect(result.error).toBeInstanceOf(InvalidWireMessageError);
  return result.error as InvalidWireMessageError;
}

function addOf(...addrs: Partial<destination.WeightedAddr>[]): destination.Update {
  return { kind: { $case: 'add', value: { addrs: addrs.map((addr) => ({ weight: 1, metricLabels: {}, ...addr })), metricLabels: {} } } };
}

describe('endpoint translators', () => {
  it('carry any endpoint across the wire unchanged (an http1 hint reads back as no hint)', () => {
    fc.assert(
      fc.property(fc.array(anEndpoint, { maxLength: 5 }), fc.constantFrom('add' as const, 'reset' as const), (endpoints, kind) => {
        const back = endpointUpdateFromWire(overTheWire(endpointUpdateToWire({ kind, endpoints })));
        expect(back).toEqual({ ok: true, value: { kind, endpoints: endpoints.map(normalized) } });
      }),
    );
  });

  it('carry removals and doesNotExist', () => {
    const removal: EndpointUpdate = { kind: 'remove', addresses: [{ ip: '10.0.0.1', port: 80 }, { ip: 'fd00::1', port: 8080 }] };
    expect(endpointUpdateFromWire(overTheWire(endpointUpdateToWire(removal)))).toEqual({ ok: true, value: removal });
    expect(endpointUpdateFromWire(overTheWire(endpointUpdateToWire({ kind: 'doesNotExist' })))).toEqual({
      ok: true,
      value: { kind: 'doesNotExist' },
    });
  });

  it('send the identity as dns_name and SNI, with its SPIFFE URI, and the inbound port as opaque transport', () => {
    const endpoint = unwrap(
      makeEndpoint({
        address: '10.0.0.7:8080',
        tlsIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local',
        protocolHint: 'h2',
        proxyInboundPort: 4243,
      }),
    );
    expect(endpointToWire(endpoint)).toEqual({
      addr: { ip: '10.0.0.7', port: 8080 },
      weight: 10_000,
      metricLabels: {},
      tlsIdentity: {
        dnsName: 'web.shop.serviceaccount.identity.weft.cluster.local',
        spiffeUri: 'spiffe://cluster.local/ns/shop/sa/web',
        serverName: 'web.shop.serviceaccount.identity.weft.cluster.local',
      },
      protocolHint: { protocol: { $case: 'h2', value: {} }, opaqueTransport: { inboundPort: 4243 } },
    });
  });

  it('read an identity given only as a SPIFFE URI, and add set-level labels to each endpoint', () => {
    const read = endpointFromWire(
      {
        addr: { ip: '10.0.0.7', port: 8080 },
        weight: 3,
        metricLabels: { pod: 'web-0', namespace: 'mine' },
        tlsIdentity: { dnsName: '', spiffeUri: 'spiffe://cluster.local/ns/shop/sa/web', serverName: '' },
      },
      'reset.addrs[0]',
      { namespace: 'shop', service: 'web' },
    );
    expect(read).toEqual({
      ok: true,
      value: unwrap(
        makeEndpoint({
          address: '10.0.0.7:8080',
          weight: 3,
          labels: { namespace: 'mine', service: 'web', pod: 'web-0' },
          tlsIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local',
        }),
      ),
    });
  });

  const identityOf = (fields: Partial<destination.TlsIdentity>): destination.TlsIdentity => ({
    dnsName: '',
    spiffeUri: '',
    serverName: '',
    ...fields,
  });
  const cases: [string, destination.Update, string, string][] = [
    ['an Update with no kind', {}, 'kind', ''],
    ['an endpoint without its address', addOf({}), 'add.addrs[0].addr', ''],
    ['an IP that is not one', addOf({ addr: { ip: '10.0.0.256', port: 80 } }), 'add.addrs[0].addr.ip', '10.0.0.256'],
    ['an IPv6 address in brackets', addOf({ addr: { ip: '[fd00::1]', port: 80 } }), 'add.addrs[0].addr.ip', '[fd00::1]'],
    ['an IPv6 address with a zone', addOf({ addr: { ip: 'fe80::1%eth0', port: 80 } }), 'add.addrs[0].addr.ip', 'fe80::1%eth0'],
    ['port zero', addOf({ addr: { ip: '10.0.0.1', port: 0 } }), 'add.addrs[0].addr.port', '0'],
    ['a negative weight', addOf({ addr: { ip: '10.0.0.1', port: 80 }, weight: -1 }), 'add.addrs[0].weight', '-1'],
    [
      'an identity with no name',
      addOf({ addr: { ip: '10.0.0.1', port: 80 }, tlsIdentity: identityOf({}) }),
      'add.addrs[0].tls_identity',
      '',
    ],
    [
      'an identity that is not a DNS-like name',
      addOf({ addr: { ip: '10.0.0.1', port: 80 }, tlsIdentity: identityOf({ dnsName: 'web shop' }) }),
      'add.addrs[0].tls_identity.dns_name',
      'web shop',
    ],
    [
      'a SPIFFE URI that is not one',
      addOf({ addr: { ip: '10.0.0.1', port: 80 }, tlsIdentity: identityOf({ spiffeUri: 'https://cluster.local/ns/a/sa/b' }) }),
      'add.addrs[0].tls_identity.spiffe_uri',
      'https://cluster.local/ns/a/sa/b',
    ],
    [
      'a SPIFFE URI of another workload than dns_name',
      addOf({
        addr: { ip: '10.0.0.1', port: 80 },
        tlsIdentity: identityOf({
          dnsName: 'web.shop.serviceaccount.identity.weft.cluster.local',
          spiffeUri: 'spiffe://cluster.local/ns/shop/sa/api',
        }),
      }),
      'add.addrs[0].tls_identity.spiffe_uri',
      'spiffe://cluster.local/ns/shop/sa/api',
    ],
    [
      'an SNI other than the identity',
      addOf({ addr: { ip: '10.0.0.1', port: 80 }, tlsIdentity: identityOf({ dnsName: 'web.example.org', serverName: 'api.example.org' }) }),
      'add.addrs[0].tls_identity.server_name',
      'api.example.org',
    ],
    [
      'inbound port zero',
      addOf({ addr: { ip: '10.0.0.1', port: 80 }, protocolHint: { opaqueTransport: { inboundPort: 0 } } }),
      'add.addrs[0].protocol_hint.opaque_transport.inbound_port',
      '0',
    ],
    [
      'a removal of a bad address',
      { kind: { $case: 'remove', value: { addrs: [{ ip: '10.0.0.1', port: 80 }, { ip: 'web', port: 80 }] } } },
      'remove.addrs[1].ip',
      'web',
    ],
  ];

  it.each(cases)('refuse %s with a typed error naming the field', (_name, wire, field, input) => {
    const error = refusal(endpointUpdateFromWire(wire));
    expect(error.field).toBe(field);
    expect(error.input).toBe(input);
    expect(error.message).toContain(field);
  });

  it('never throw on whatever a peer sends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        let wire: destination.Update;
        try {
          wire = destination.Update.decode(bytes);
        } catch {
          return; // grpc-js fails such a call itself, before any translator sees it.
        }
        const read = endpointUpdateFromWire(wire);
        if (!read.ok) expect(read.error).toBeInstanceOf(InvalidWireMessageError);
      }),
    );
    const anAddr = fc.record({
      addr: fc.option(fc.record({ ip: fc.oneof(fc.string(), fc.ipV4(), fc.ipV6()), port: fc.integer({ min: -5, max: 70_000 }) }), { nil: undefined }),
      weight: fc.oneof(fc.integer(), fc.double()),
      metricLabels: fc.dictionary(fc.string(), fc.string()),
      tlsIdentity: fc.option(fc.record({ dnsName: fc.string(), spiffeUri: fc.string(), serverName: fc.string() }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(anAddr, { maxLength: 3 }), (addrs) => {
        const read = endpointUpdateFromWire({ kind: { $case: 'reset', value: { addrs, metricLabels: {} } } });
        if (!read.ok) expect(read.error).toBeInstanceOf(InvalidWireMessageError);
      }),
    );
  });
});
