// InboundAuthorizer: admits or refuses each inbound HTTP request and opaque connection under its port's policy, and counts it.
import {
  type AuthorizationDecision,
  authorize,
  type AuthzLabels,
  type AuthzProtocol,
  formatSocketAddress,
  type InboundConnection,
  type InboundServerPolicy,
  type PolicyRequestHeaders,
  type ProxyMetrics,
  type SocketAddress,
  type TlsStatus,
} from '@weft/core';
import type { Socket } from 'node:net';
import { CLIENT_ID_HEADER } from '../http/hop-by-hop-headers.js';
import { acceptedTlsStatus } from '../transport/tcp-listener.js';
import type { InboundPolicyWatcher, InboundPortPolicy } from './inbound-policy-watcher.js';
import { meshPeerOf } from './mesh-peer.js';

export interface InboundAuthorizerOptions {
  readonly policies: InboundPolicyWatcher;
  readonly metrics: ProxyMetrics;
  /** The local application: its port is the target of every connection no peer proxy named another port for. */
  readonly appAddr: SocketAddress;
}

/** What an allowed request is forwarded with: the client's TLS status for metrics, its verified identity for the app. */
export interface InboundForwarding {
  /** The accepted connection's TLS status (from mTLS termination); undefined when nothing described the connection. */
  readonly peerTls?: TlsStatus;
  /** The verified mesh identity, sent to the app as `weft-client-id`; undefined without one. */
  readonly clientId?: string;
}

export type InboundRequestVerdict =
  | { readonly allowed: true; readonly forwarding: InboundForwarding }
  | { readonly allowed: false; readonly reason: string };

/** The parts of an HTTP request policy routes look at; the headers are read only when the policy has routes. */
export interface InboundRequestHead {
  readonly method: string;
  readonly path: string;
  readonly headers: () => PolicyRequestHeaders;
}

/** What is known about the client behind one accepted socket, worked out on its first request or at its start. */
interface InboundClient {
  readonly hold: InboundPortPolicy;
  readonly connection: InboundConnection;
  /** The TLS labels of its authorization counters. */
  readonly tls: TlsStatus;
  readonly targetAddr: string;
  readonly allowed: InboundRequestVerdict;
  /** The last decision under a policy without routes, reused while the port's policy stays the same object. */
  last: { readonly policy: InboundServerPolicy; readonly verdict: InboundRequestVerdict; readonly labels: AuthzLabels } | undefined;
  /** Label objects by decision under `labelsPolicy`, reused so metrics find their series at once. */
  labels: Map<string, AuthzLabels>;
  labelsPolicy: InboundServerPolicy | undefined;
}

/** Label objects kept per client and policy; a client seeing more decisions than this builds the rest anew. */
const MAX_LABELS_PER_CLIENT = 32;

/**
 * Decides with the core `authorize()` for the client behind a socket: its address, and its verified identity when
 * mTLS termination recorded one (`meshPeerOf`); a socket nobody described is an unauthenticated client of the app's
 * port. The port's policy is read for every decision, so a policy update applies to the very next request or
 * connection. Every decision is counted (`inbound_{http,tcp}_authz_{allow,deny}_total`); audit-mode admissions count
 * as allowed, under the rule that would have admitted the client or the `audit` default.
 */
export class InboundAuthorizer {
  private readonly clients = new WeakMap<Socket, InboundClient>();
  private readonly appIp: string;
  private readonly appPort: number;

  constructor(private readonly options: InboundAuthorizerOptions) {
    this.appIp = options.appAddr.ip;
    this.appPort = options.appAddr.port;
  }

  /** One HTTP request on `socket` (HTTP/1 or an HTTP/2 session's socket). */
  authorizeRequest(socket: Socket, request: InboundRequestHead): InboundRequestVerdict {
    const client = this.clientOf(socket);
    const policy = client.hold.current();
    const last = client.last;
    if (last !== undefined && last.policy === policy) {
      this.options.metrics.authorizationDecided(last.labels, last.verdict.allowed);
      return last.verdict;
    }
    const routed = policy.httpRoutes.length > 0;
    const head = routed ? { method: request.method, path: request.path, headers: request.headers() } : { method: request.method, path: request.path };
    const decision = authorize(client.connection, head, policy);
    const labels = this.labelsFor(client, 'http', policy, decision);
    const verdict: InboundRequestVerdict = decision.allowed ? client.allowed : { allowed: false, reason: decision.reason };
    client.last = routed ? undefined : { policy, verdict, labels };
    this.options.metrics.authorizationDecided(labels, decision.allowed);
    return verdict;
  }

  /** An opaque connection at its start: true to forward it, false to reset it. */
  authorizeConnection(socket: Socket): boolean {
    const client = this.clientOf(socket);
    const policy = client.hold.current();
    const decision = authorize(client.connection, undefined, policy);
    this.options.metrics.authorizationDecided(this.labelsFor(client, 'tcp', policy, decision), decision.allowed);
    return decision.allowed;
  }

  private clientOf(socket: Socket): InboundClient {
    const known = this.clients.get(socket);
    if (known !== undefined) return known;
    const peer = meshPeerOf(socket);
    const port = peer?.targetPort ?? this.appPort;
    const hold = this.options.policies.retain(port);
    // The socket holds its port's watch while it is open; one already closed holds it no longer than this call.
    if (socket.destroyed) queueMicrotask(() => hold.release());
    else socket.once('close', () => hold.release());
    const identity = peer?.tls.tls === 'true' ? peer.tls.peerIdentity : undefined;
    const connection: InboundConnection = {
      clientIp: peer?.remoteIp ?? socket.remoteAddress ?? '',
      tls: peer?.tls.tls === 'true',
      ...(identity === undefined ? {} : { clientIdentity: identity }),
    };
    const forwarding: InboundForwarding = {
      ...(peer === undefined ? {} : { peerTls: peer.tls }),
      ...(identity === undefined ? {} : { clientId: identity }),
    };
    const client: InboundClient = {
      hold,
      connection,
      tls: peer?.tls ?? acceptedTlsStatus(socket),
      targetAddr: formatSocketAddress({ ip: this.appIp, port }),
      allowed: { allowed: true, forwarding },
      last: undefined,
      labels: new Map(),
      labelsPolicy: undefined,
    };
    this.clients.set(socket, client);
    return client;
  }

  private labelsFor(client: InboundClient, protocol: AuthzProtocol, policy: InboundServerPolicy, decision: AuthorizationDecision): AuthzLabels {
    if (client.labelsPolicy !== policy || client.labels.size >= MAX_LABELS_PER_CLIENT) {
      client.labels.clear();
      client.labelsPolicy = policy;
    }
    const rule = decision.allowed ? decision.rule : undefined;
    const key = `${protocol}|${decision.allowed}|${decision.route ?? ''}|${rule?.kind ?? ''}|${rule?.name ?? ''}`;
    let labels = client.labels.get(key);
    if (labels === undefined) {
      labels = {
        protocol,
        targetAddr: client.targetAddr,
        tls: client.tls,
        server: { kind: policy.server.kind, name: policy.server.name, port: policy.port },
        ...(rule === undefined ? {} : { authorization: { kind: rule.kind, name: rule.name } }),
        ...(decision.route === undefined ? {} : { route: decision.route }),
      };
      client.labels.set(key, labels);
    }
    return labels;
  }
}

/**
 * Adds `weft-client-id: <identity>` to a flat list of forwarded request headers (any the client sent are already
 * stripped); unchanged without an identity.
 */
export function withClientId(headers: string[], clientId: string | undefined): string[] {
  if (clientId !== undefined) headers.push(CLIENT_ID_HEADER, clientId);
  return headers;
}

/** A flat [name, value, ...] header list (HTTP/2 raw headers) as the header object route matching reads. */
export function policyHeadersOf(rawHeaders: readonly string[]): PolicyRequestHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value];
  }
  return headers;
}
