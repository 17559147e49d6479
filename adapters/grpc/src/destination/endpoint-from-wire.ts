// Endpoint translator, wire to core: destination.v1 Update and WeightedAddr messages checked and read as core values.
import type { destination, net } from '@weft/contracts';
import {
  type Endpoint,
  type EndpointProtocolHint,
  type EndpointUpdate,
  err,
  identityName,
  makeEndpoint,
  MAX_ENDPOINT_WEIGHT,
  ok,
  parseIdentityName,
  parseSpiffeUri,
  type Result,
  type SocketAddress,
} from '@weft/core';
import { InvalidWireMessageError, oneofCase, wireField } from '../control-client/invalid-wire-message-error.js';

type Read<T> = Result<T, InvalidWireMessageError>;

function fail(field: string, input: string, reason: string): Read<never> {
  return err(new InvalidWireMessageError(field, input, reason));
}

/**
 * Reads one Update. Every endpoint is checked (address, weight, labels, identity, hint), and one bad endpoint refuses
 * the whole message, with the error naming the field, e.g. "add.addrs[2].addr". Set-level metric labels are added to
 * each endpoint's own labels (the endpoint's win on a clash).
 */
export function endpointUpdateFromWire(wire: destination.Update): Read<EndpointUpdate> {
  const kind = wire.kind;
  switch (kind?.$case) {
    case 'add':
    case 'reset': {
      const endpoints = addrSetFromWire(kind.value, kind.$case);
      return endpoints.ok ? ok({ kind: kind.$case, endpoints: endpoints.value }) : endpoints;
    }
    case 'remove': {
      const addresses = addressesFromWire(kind.value.addrs, 'remove.addrs');
      return addresses.ok ? ok({ kind: 'remove', addresses: addresses.value }) : addresses;
    }
    case 'doesNotExist':
      return ok({ kind: 'doesNotExist' });
    default:
      return fail('kind', oneofCase(kind), 'is not set; an Update carries exactly one of add, remove, reset or does_not_exist');
  }
}

/** Reads one WeightedAddr, `at` being its place in the message (e.g. "add.addrs[0]"); `setLabels` come from its set. */
export function endpointFromWire(
  wire: destination.WeightedAddr,
  at: string,
  setLabels: Readonly<Record<string, string>> = {},
): Read<Endpoint> {
  const address = addressFromWire(wire.addr, wireField(at, 'addr'));
  if (!address.ok) return address;
  const { weight } = wire;
  if (!Number.isInteger(weight) || weight < 0 || weight > MAX_ENDPOINT_WEIGHT) {
    return fail(wireField(at, 'weight'), String(weight), `is not a whole number from 0 to ${MAX_ENDPOINT_WEIGHT}; the default is 10000`);
  }
  const labels = labelsFromWire({ ...setLabels, ...wire.metricLabels }, wireField(at, 'metric_labels'));
  if (!labels.ok) return labels;
  const identity = wire.tlsIdentity === undefined ? ok(undefined) : tlsIdentityFromWire(wire.tlsIdentity, wireField(at, 'tls_identity'));
  if (!identity.ok) return identity;
  const hint = protocolHintFromWire(wire.protocolHint, wireField(at, 'protocol_hint'));
  if (!hint.ok) return hint;
  const made = makeEndpoint({
    address: address.value,
    weight,
    labels: labels.value,
    ...(identity.value === undefined ? {} : { tlsIdentity: identity.value }),
    ...hint.value,
  });
  return made.ok ? made : fail(at, made.error.input, made.error.reason);
}

function addrSetFromWire(set: destination.WeightedAddrSet, at: string): Read<Endpoint[]> {
  const setLabels = labelsFromWire(set.metricLabels, wireField(at, 'metric_labels'));
  if (!setLabels.ok) return setLabels;
  const endpoints: Endpoint[] = [];
  for (const [index, addr] of set.addrs.entries()) {
    const endpoint = endpointFromWire(addr, wireField(at, `addrs[${index}]`), setLabels.value);
    if (!endpoint.ok) return endpoint;
    endpoints.push(endpoint.value);
  }
  return ok(endpoints);
}

function addressesFromWire(addrs: readonly net.TcpAddress[], at: string): Read<SocketAddress[]> {
  const addresses: SocketAddress[] = [];
  for (const [index, addr] of addrs.entries()) {
    const address = addressFromWire(addr, wireField(at, `[${index}]`));
    if (!address.ok) return address;
    addresses.push(address.value);
  }
  return ok(addresses);
}

/** An IP in its usual text form (no brackets, no zone) and a port 1-65535; the IP is put in canonical form. */
function addressFromWire(addr: net.TcpAddress | undefined, at: string): Read<SocketAddress> {
  if (addr === undefined) return fail(at, '', 'is missing; every endpoint needs its IP address and port');
  const { ip, port } = addr;
  if (typeof ip !== 'string') return fail(wireField(at, 'ip'), String(ip), 'is not text');
  // Checked with a port known to be good, so that the error names the field at fault.
  const checked = makeEndpoint({ address: { ip, port: 1 } });
  if (!checked.ok) return fail(wireField(at, 'ip'), ip, checked.error.reason);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    return fail(wireField(at, 'port'), String(port), 'is not a port from 1 to 65535 (0 means the sender did not know it)');
  }
  return ok({ ip: checked.value.address.ip, port });
}

function labelsFromWire(labels: unknown, at: string): Read<Record<string, string>> {
  if (typeof labels !== 'object' || labels === null) return fail(at, String(labels), 'is not a map of label names to values');
  for (const [name, value] of Object.entries(labels)) {
    if (typeof value !== 'string') return fail(wireField(at, name), String(value), 'is not text; label values are strings');
  }
  return ok({ ...(labels as Record<string, string>) });
}

/**
 * The identity name from dns_name, or from spiffe_uri when dns_name is empty. When both are set and dns_name has
 * Weft's form, they must name the same workload. server_name must be empty or the identity name: Weft proxies send
 * the identity name as SNI, and a different one would be dropped without notice otherwise.
 */
function tlsIdentityFromWire(wire: destination.TlsIdentity, at: string): Read<string> {
  const { dnsName, spiffeUri, serverName } = wire;
  if (dnsName === '' && spiffeUri === '') {
    return fail(at, '', 'has neither dns_name nor spiffe_uri; set dns_name, e.g. "web.shop.serviceaccount.identity.weft.cluster.local"');
  }
  let name = normalName(dnsName);
  if (spiffeUri !== '') {
    const spiffe = parseSpiffeUri(spiffeUri);
    if (!spiffe.ok) return fail(wireField(at, 'spiffe_uri'), spiffeUri, spiffe.error.reason);
    const derived = identityName(spiffe.value);
    if (name === '') name = derived;
    else if (parseIdentityName(name).ok && derived !== name) {
      return fail(wireField(at, 'spiffe_uri'), spiffeUri, `names "${derived}", not the dns_name "${dnsName}"; send names of one workload`);
    }
  }
  const checked = makeEndpoint({ address: '127.0.0.1:1', tlsIdentity: name });
  if (!checked.ok) return fail(wireField(at, dnsName === '' ? 'spiffe_uri' : 'dns_name'), name, checked.error.reason);
  if (serverName !== '' && normalName(serverName) !== name) {
    return fail(
      wireField(at, 'server_name'),
      serverName,
      `differs from the identity name "${name}"; Weft proxies send the identity name as SNI, so leave server_name empty or equal to dns_name`,
    );
  }
  return ok(checked.value.tlsIdentity ?? name);
}

function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

type HintFields = { protocolHint?: EndpointProtocolHint; proxyInboundPort?: number };

function protocolHintFromWire(wire: destination.ProtocolHint | undefined, at: string): Read<HintFields> {
  if (wire === undefined) return ok({});
  const fields: HintFields = {};
  const protocol = wire.protocol;
  switch (protocol?.$case) {
    case undefined:
      break;
    case 'h2':
    case 'opaque':
      fields.protocolHint = protocol.$case;
      break;
    default:
      return fail(wireField(at, 'protocol'), oneofCase(protocol), 'is not h2 or opaque');
  }
  if (wire.opaqueTransport !== undefined) {
    const port = wire.opaqueTransport.inboundPort;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      return fail(wireField(at, 'opaque_transport.inbound_port'), String(port), 'is not a port from 1 to 65535; the default inbound port is 4243');
    }
    fields.proxyInboundPort = port;
  }
  return ok(fields);
}
