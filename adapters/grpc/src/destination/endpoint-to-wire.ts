// Endpoint translator, core to wire: Endpoint and EndpointUpdate as destination.v1 WeightedAddr and Update messages.
import type { destination } from '@weft/contracts';
import { type Endpoint, type EndpointUpdate, parseIdentityName, spiffeUri } from '@weft/core';

/**
 * One endpoint as a WeightedAddr. The TLS identity becomes dns_name and server_name (Weft proxies send the identity as
 * SNI), plus spiffe_uri when the name has Weft's "<sa>.<ns>.serviceaccount.identity.weft.<trust-domain>" form. The
 * 'h2' and 'opaque' hints have wire forms; 'http1' is what an unset hint means on the wire (speak the protocol as
 * detected), so it travels as no hint. proxyInboundPort becomes opaque_transport.inbound_port.
 */
export function endpointToWire(endpoint: Endpoint): destination.WeightedAddr {
  const wire: destination.WeightedAddr = {
    addr: { ip: endpoint.address.ip, port: endpoint.address.port },
    weight: endpoint.weight,
    metricLabels: { ...endpoint.labels },
  };
  if (endpoint.tlsIdentity !== undefined) wire.tlsIdentity = tlsIdentityToWire(endpoint.tlsIdentity);
  const hint = protocolHintToWire(endpoint);
  if (hint !== undefined) wire.protocolHint = hint;
  return wire;
}

/** One update as an Update message; the set-level metric labels are left empty (each endpoint carries its own). */
export function endpointUpdateToWire(update: EndpointUpdate): destination.Update {
  switch (update.kind) {
    case 'add':
      return { kind: { $case: 'add', value: { addrs: update.endpoints.map(endpointToWire), metricLabels: {} } } };
    case 'reset':
      return { kind: { $case: 'reset', value: { addrs: update.endpoints.map(endpointToWire), metricLabels: {} } } };
    case 'remove':
      return { kind: { $case: 'remove', value: { addrs: update.addresses.map(({ ip, port }) => ({ ip, port })) } } };
    case 'doesNotExist':
      return { kind: { $case: 'doesNotExist', value: {} } };
  }
}

function tlsIdentityToWire(name: string): destination.TlsIdentity {
  const workload = parseIdentityName(name);
  return { dnsName: name, spiffeUri: workload.ok ? spiffeUri(workload.value) : '', serverName: name };
}

function protocolHintToWire(endpoint: Endpoint): destination.ProtocolHint | undefined {
  const hint: destination.ProtocolHint = {};
  if (endpoint.protocolHint === 'h2') hint.protocol = { $case: 'h2', value: {} };
  if (endpoint.protocolHint === 'opaque') hint.protocol = { $case: 'opaque', value: {} };
  if (endpoint.proxyInboundPort !== undefined) hint.opaqueTransport = { inboundPort: endpoint.proxyInboundPort };
  return hint.protocol === undefined && hint.opaqueTransport === undefined ? undefined : hint;
}
