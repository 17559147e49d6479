// composeProxyContainer: the proxy's container as main.ts builds it, standalone (memory discovery) or on a control plane (gRPC clients).
import {
  ControlChannel,
  type ControlChannelOptions,
  type ControlClientMetrics,
  controlPlaneClientsModule,
  type ControlPlaneClientsOptions,
  GrpcDiscoverEndpoints,
  GrpcDiscoverInboundPolicy,
  GrpcDiscoverProfile,
  GrpcIdentityClient,
  grpcIdentityClientModule,
} from '@weft/adapter-grpc';
import { InMemoryDiscoverEndpoints, memoryModule } from '@weft/adapter-memory';
import { PrometheusControlClientMetrics, PrometheusProxyMetrics, prometheusModule } from '@weft/adapter-prometheus';
import { systemModule } from '@weft/adapter-system';
import { Clock, DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile, formatSocketAddress, ProxyMetrics, RandomSource } from '@weft/core';
import type { Container } from 'inversify';
import type { ProxyConfig } from '../proxy-config.js';
import { createProxyContainer } from '../proxy-container.js';
import type { TransportLog } from '../transport/transport-log.js';
import { controlClientLog } from './control-client-log.js';
import type { ControlPlaneSettings } from './control-plane-settings.js';

export interface ComposeProxyOptions {
  /** The `version` label of proxy_build_info. */
  readonly version: string;
  readonly log: TransportLog;
  /** Tuning of the control channel, for tests (quicker reconnects); main.ts leaves the adapter's defaults. */
  readonly controlChannel?: Pick<ControlChannelOptions, 'backoff' | 'channelOptions'>;
}

export interface ProxyComposition {
  readonly container: Container;
  /** Standalone: the in-memory discovery startProxy seeds from WEFT_PROXY_ENDPOINTS; undefined on a control plane. */
  readonly staticDiscovery: InMemoryDiscoverEndpoints | undefined;
  /**
   * Ends the control-plane streams, then closes their channel, and the identity client. Call it once the proxy has
   * stopped: requests draining until then still follow discovery.
   */
  close(): void;
}

/**
 * Standalone (no WEFT_PROXY_CONTROL_ADDR): endpoints, profiles and inbound policies from the memory adapters, names
 * unknown to them resolved by DNS. With WEFT_PROXY_CONTROL_ADDR: DiscoverEndpoints, DiscoverProfile and
 * DiscoverInboundPolicy are the gRPC clients on one channel to the control plane, keeping their last known state for
 * WEFT_PROXY_CONTROL_STATE_TTL while it is away, and reporting control_* metrics in the proxy's /metrics. Either way,
 * with an identity the WorkloadCertifier is the control plane's Identity service.
 */
export function composeProxyContainer(config: ProxyConfig, options: ComposeProxyOptions): ProxyComposition {
  const control = config.control;
  const discoveryPorts = control === undefined ? [] : [DiscoverEndpoints, DiscoverProfile, DiscoverInboundPolicy];
  const container = createProxyContainer([
    systemModule({ resolveNames: {} }),
    memoryModule({ omit: [ProxyMetrics, ...discoveryPorts] }),
    prometheusModule({ version: options.version }),
    ...(config.identity ? [grpcIdentityClientModule({ address: config.identity.certifierAddr })] : []),
  ]);
  // Loaded second: the clients' options take the clock, the random source and the registry of the modules above.
  if (control !== undefined) container.load(controlPlaneClientsModule(controlClientsOptions(container, config, control, options)));
  return {
    container,
    staticDiscovery: control === undefined ? container.get(InMemoryDiscoverEndpoints) : undefined,
    close: () => {
      if (control !== undefined) closeControlClients(container);
      if (config.identity) container.get(GrpcIdentityClient).close();
    },
  };
}

function controlClientsOptions(
  container: Container,
  config: ProxyConfig,
  control: ControlPlaneSettings,
  options: ComposeProxyOptions,
): ControlPlaneClientsOptions {
  const metrics: ControlClientMetrics = new PrometheusControlClientMetrics(container.get(PrometheusProxyMetrics).registry);
  const policy = config.inboundPolicy;
  return {
    address: formatSocketAddress(control.addr),
    lastKnownTtlMs: control.stateTtlMs,
    clock: container.get<Clock>(Clock),
    random: container.get<RandomSource>(RandomSource),
    metrics,
    log: controlClientLog(options.log),
    ...options.controlChannel,
    // Names this proxy's workload to the Destination service, as Linkerd's context token does.
    ...(policy ? { contextToken: JSON.stringify({ ns: policy.workload.namespace, workload: policy.workload.name }) } : {}),
    // A port whose policy outlived the time to live falls back to the proxy's own default policy, as before discovery answered.
    ...(policy ? { inboundPolicy: { expiredPolicy: policy.defaultPolicy, clusterNetworks: policy.clusterNetworks } } : {}),
  };
}

/** The three clients first (their streams are cancelled), then the channel they share. */
function closeControlClients(container: Container): void {
  container.get(GrpcDiscoverEndpoints).close();
  container.get(GrpcDiscoverProfile).close();
  container.get(GrpcDiscoverInboundPolicy).close();
  container.get(ControlChannel).close();
}
