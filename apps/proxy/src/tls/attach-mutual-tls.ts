// attachMutualTls: mesh mTLS for the running proxy: the client of its outbound paths and the terminator of its inbound listener.
import type { Clock, DiscoverEndpoints, Authority } from '@weft/core';
import { DEFAULT_H2_UPSTREAM_OPTIONS, type H2UpstreamOptions } from '../h2/h2-upstream-sessions.js';
import { DEFAULT_UPSTREAM_POOL_OPTIONS, type UpstreamPoolOptions } from '../http/upstream-pools.js';
import type { CredentialSource } from '../identity/proxy-credentials.js';
import type { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { type ConnectionSettings, forwardOpaque } from '../tcp/listen-upstream.js';
import { OutboundTcpForwarder } from '../tcp/outbound-tcp-forwarder.js';
import type { DetectedConnection, ProtocolHandlers } from '../transport/connection-detector.js';
import type { TransportLog } from '../transport/transport-log.js';
import { MeshTlsClient } from './mesh-tls-client.js';
import { type MeshRefusal, MeshTlsTerminator } from './mesh-tls-terminator.js';

export interface AttachMutualTlsOptions {
  /** This proxy's certificate (WEFT_PROXY_IDENTITY_*); without one the proxy runs as before, with no mTLS at all. */
  readonly credentials: CredentialSource | undefined;
  readonly clock: Clock;
  readonly log?: TransportLog;
  /** Told of each refused inbound mesh connection (failed handshake, bad leaf or header), e.g. for a metric. */
  readonly onRefusal?: (refusal: MeshRefusal) => void;
}

/** The upstream listener a set of mesh-aware opaque handlers serves. */
export interface MeshUpstreamTarget {
  readonly target: Authority;
  readonly balancer: EndpointBalancer;
  readonly discovery: DiscoverEndpoints;
  readonly settings: ConnectionSettings;
}

export interface MutualTls {
  readonly client: MeshTlsClient;
  /** For listenInbound's `meshTls`. */
  readonly terminator: MeshTlsTerminator;
  /** Options of the outbound HTTP/1 proxy: its pools reach meshed endpoints over mTLS. */
  readonly http1: { readonly upstream: UpstreamPoolOptions };
  /** Options of the outbound HTTP/2 proxy: its sessions reach meshed endpoints over mTLS. */
  readonly h2: { readonly upstream: H2UpstreamOptions };
  /** Handlers for an upstream listener's opaque TCP (and TLS from the app): forwarded over mTLS to meshed endpoints. */
  upstreamTcpHandlers(upstream: MeshUpstreamTarget): Pick<ProtocolHandlers, 'opaque' | 'tls'>;
  /** Stops following credential changes and discovery. */
  close(): void;
}

/** Mesh mTLS when the proxy has an identity configured; undefined (and the proxy unchanged) when it has none. */
export function attachMutualTls(options: AttachMutualTlsOptions): MutualTls | undefined {
  const { credentials, clock, log } = options;
  if (credentials === undefined) return undefined;
  const common = { credentials, clock, ...(log ? { log } : {}) };
  const client = new MeshTlsClient(common);
  const terminator = new MeshTlsTerminator({ ...common, ...(options.onRefusal ? { onRefusal: options.onRefusal } : {}) });
  const forwarders: OutboundTcpForwarder[] = [];
  return {
    client,
    terminator,
    http1: { upstream: { ...DEFAULT_UPSTREAM_POOL_OPTIONS, meshTls: client } },
    h2: { upstream: { ...DEFAULT_H2_UPSTREAM_OPTIONS, meshTls: client } },
    upstreamTcpHandlers: ({ target, balancer, discovery, settings }) => {
      const forwarder = new OutboundTcpForwarder({
        target,
        balancer,
        discovery,
        connectTimeoutMs: settings.connectTimeoutMs,
        failFastTimeoutMs: settings.failFastTimeoutMs,
        meshTls: client,
        ...(log ? { log } : {}),
      });
      forwarders.push(forwarder);
      const opaque = (detected: DetectedConnection) => forwardOpaque(detected, (connection) => forwarder.forward(connection), log);
      return { opaque, tls: opaque };
    },
    close: () => {
      terminator.close();
      for (const forwarder of forwarders) forwarder.close();
    },
  };
}
