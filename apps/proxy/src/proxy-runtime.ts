// startProxy: builds the running proxy from its configuration and container: listeners, HTTP paths, admin and shutdown.
import { PrometheusProxyMetrics } from '@weft/adapter-prometheus';
import {
  Clock,
  DiscoverEndpoints,
  DiscoverProfile,
  type InboundConnectionError,
  makeEndpoint,
  ProxyMetrics,
  RandomSource,
  type SocketAddress,
} from '@weft/core';
import type { InMemoryDiscoverEndpoints } from '@weft/adapter-memory';
import type { Container } from 'inversify';
import {
  GracefulShutdown,
  type ProxyAdminServer,
  READINESS_CONDITIONS,
  Readiness,
  type ShutdownSummary,
  startProxyAdminServer,
} from './admin/index.js';
import { H2Proxy } from './h2/index.js';
import { Http1Proxy, INBOUND_HTTP1_SERVER_LIMITS } from './http/index.js';
import { attachInboundPolicy } from './inbound/attach-inbound-policy.js';
import type { CredentialSource } from './identity/proxy-credentials.js';
import { prepareProxyIdentity } from './identity/proxy-identity.js';
import { attachMutualTls } from './tls/attach-mutual-tls.js';
import type { MeshRefusal } from './tls/mesh-tls-terminator.js';
import { type ProxyTapServer, startTapServer, TapHub } from './tap/index.js';
import type { EndpointBalancer } from './outbound/endpoint-balancer.js';
import type { ProxyConfig, StaticService } from './proxy-config.js';
import { EndpointBalancerFactory } from './proxy.module.js';
import { listenInbound, redirectedAppAddr } from './tcp/listen-inbound.js';
import { listenOutbound } from './tcp/listen-outbound.js';
import { listenUpstream, type RunningListener } from './tcp/listen-upstream.js';
import { redirectedDestinationReader } from './transparent/redirected-destination.js';
import { redirectedOutboundHandlers } from './transparent/redirected-outbound-handlers.js';
import { RedirectedTargets } from './transparent/redirected-targets.js';
import type { DetectedConnection } from './transport/connection-detector.js';
import type { TransportLog } from './transport/transport-log.js';

export interface RunningProxy {
  readonly admin: ProxyAdminServer;
  readonly tap: ProxyTapServer;
  readonly tapHub: TapHub;
  readonly inbound: RunningListener;
  /**
   * The transparent outbound listener: connections iptables redirected to it go to their original destination; HTTP
   * made to it directly is routed by its Host.
   */
  readonly outbound: RunningListener;
  /** The loopback listener of each local-mode upstream, by name. */
  readonly upstreams: ReadonlyMap<string, RunningListener>;
  readonly readiness: Readiness;
  readonly shutdown: GracefulShutdown;
  /** This proxy's key and certificate (WEFT_PROXY_IDENTITY_*); undefined when it runs without identity. */
  readonly identity: CredentialSource | undefined;
  /** Drains and stops everything; resolves with what the drain did. */
  stop(): Promise<ShutdownSummary>;
}

export interface StartProxyOptions {
  readonly config: ProxyConfig;
  readonly container: Container;
  readonly log: TransportLog;
  /** Seeds the in-memory discovery of standalone mode with WEFT_PROXY_ENDPOINTS. */
  readonly staticDiscovery?: InMemoryDiscoverEndpoints;
}

/** Starts every listener; the proxy is ready once all of them are bound. */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { config, container, log } = options;
  if (options.staticDiscovery) seedStaticEndpoints(options.staticDiscovery, config.staticEndpoints);

  const clock = container.get<Clock>(Clock);
  const metrics = container.get<ProxyMetrics>(ProxyMetrics);
  const discovery = container.get<DiscoverEndpoints>(DiscoverEndpoints);
  const balancers = container.get<EndpointBalancerFactory>(EndpointBalancerFactory);
  // Before any listener: a bad token or trust anchors file stops the start here, naming its variable.
  const identity = await prepareProxyIdentity({ settings: config.identity, container, log });
  const tapHub = new TapHub({
    denyList: config.tapDenyList,
    onObserverError: (error) => log({ event: 'tap-observer-failed', message: String(error) }),
  });
  const deps = { metrics, clock, random: container.get<RandomSource>(RandomSource), tap: tapHub };
  const inboundPolicy = attachInboundPolicy({
    container,
    metrics,
    appAddr: config.inboundAppAddr,
    log,
    ...(config.inboundPolicy ? { settings: config.inboundPolicy } : {}),
  });
  // Mesh mTLS between proxies when this one has an identity; without one, nothing below changes.
  const mtls = attachMutualTls({
    credentials: identity?.credentials,
    clock,
    log,
    onRefusal: (refusal) => metrics.inboundConnectionRefused(INBOUND_ERROR_OF_REFUSAL[refusal]),
  });
  const outboundHttp = new Http1Proxy(
    { direction: 'outbound', balancers, profiles: container.get<DiscoverProfile>(DiscoverProfile) },
    deps,
    { failFastMs: config.failFastTimeoutMs, ...mtls?.http1 },
  );
  // Inbound has one endpoint, the app: waiting long for it only delays the error the client will get.
  const inboundHttp = new Http1Proxy({ direction: 'inbound', localApp: config.inboundAppAddr, authorizer: inboundPolicy.authorizer }, deps, {
    failFastMs: Math.min(config.failFastTimeoutMs, 1_000),
    limits: INBOUND_HTTP1_SERVER_LIMITS,
  });
  const outboundH2 = new H2Proxy(
    { direction: 'outbound', balancers, profiles: container.get<DiscoverProfile>(DiscoverProfile) },
    deps,
    { failFastMs: config.failFastTimeoutMs, ...mtls?.h2 },
  );
  const inboundH2 = new H2Proxy({ direction: 'inbound', localApp: config.inboundAppAddr, authorizer: inboundPolicy.authorizer }, deps, {
    failFastMs: Math.min(config.failFastTimeoutMs, 1_000),
  });
  const tap = await startTapServer({ address: config.tapAddr, hub: tapHub });
  // Transparent mode: what iptables redirected to the inbound and outbound listeners is told apart by SO_ORIGINAL_DST.
  const readRedirected = redirectedDestinationReader(log);
  const redirectedTargets = new RedirectedTargets({
    discovery,
    clock,
    random: deps.random,
    settings: config,
    ...(mtls ? { meshTls: mtls.client } : {}),
    log,
  });

  const readiness = new Readiness([READINESS_CONDITIONS.listeners]);
  identity?.start(readiness);
  const shutdown = new GracefulShutdown({ gracePeriodMs: config.shutdownGracePeriodMs, readiness, clock });
  const admin = await startProxyAdminServer({
    address: config.adminAddr,
    readiness,
    metrics: metricsRenderer(container),
    shutdownEndpoint: { enabled: config.shutdownEndpointEnabled, onShutdown: () => void shutdown.begin('admin') },
    log: (event) => log({ ...event, message: event.event }),
  });

  const upstreamBalancers: EndpointBalancer[] = [];
  const upstreams = new Map<string, RunningListener>();
  for (const upstream of config.upstreams) {
    const balancer = balancers(upstream.authority);
    upstreamBalancers.push(balancer);
    const running = await listenUpstream({
      upstream,
      settings: config,
      balancer,
      discovery,
      metrics,
      handlers: {
        http1: (detected: DetectedConnection) =>
          outboundHttp.handleHttp1Connection(detected.socket, Buffer.alloc(0), { target: upstream.authority }),
        h2: (detected: DetectedConnection) => outboundH2.handleH2Connection(detected.socket, { target: upstream.authority }),
        ...mtls?.upstreamTcpHandlers({ target: upstream.authority, balancer, discovery, settings: config }),
      },
      log,
    });
    upstreams.set(upstream.name, running);
  }
  const inbound = await listenInbound({
    address: config.inboundAddr,
    appAddr: config.inboundAppAddr,
    settings: config,
    metrics,
    handlers: {
      http1: (detected: DetectedConnection) => inboundHttp.handleHttp1Connection(detected.socket, Buffer.alloc(0), inboundAppOf(detected)),
      h2: (detected: DetectedConnection) => inboundH2.handleH2Connection(detected.socket, inboundAppOf(detected)),
    },
    authorizeOpaque: (connection) => inboundPolicy.authorizer.authorizeConnection(connection.socket),
    ...(mtls ? { meshTls: mtls.terminator } : {}),
    originalDestination: readRedirected,
    sessionsToHeaderPort: config.transparent,
    log,
  });

  const outbound = await listenOutbound({
    address: config.outboundAddr,
    settings: config,
    metrics,
    handlers: {
      http1: (detected: DetectedConnection) => outboundHttp.handleHttp1Connection(detected.socket, Buffer.alloc(0)),
      h2: (detected: DetectedConnection) => outboundH2.handleH2Connection(detected.socket),
    },
    redirected: {
      destinationOf: readRedirected,
      handlers: redirectedOutboundHandlers({ targets: redirectedTargets, http1: outboundHttp, h2: outboundH2, log }),
    },
    log,
  });

  const listeners = [inbound, outbound, ...upstreams.values()];
  shutdown.register({
    name: 'listeners',
    drain: async () => {
      await Promise.all(listeners.map((listener) => listener.close(config.shutdownGracePeriodMs)));
    },
    forceClose: () => {
      for (const listener of listeners) void listener.close(0);
    },
  });
  shutdown.register({
    name: 'http1',
    drain: async () => {
      await Promise.all([outboundHttp.drain(), inboundHttp.drain()]);
    },
    forceClose: () => {
      void outboundHttp.close();
      void inboundHttp.close();
    },
  });
  shutdown.register({
    name: 'h2',
    drain: async () => {
      await Promise.all([outboundH2.close(), inboundH2.close()]);
    },
    forceClose: () => {
      outboundH2.forceClose();
      inboundH2.forceClose();
    },
  });
  readiness.markMet(READINESS_CONDITIONS.listeners);

  return {
    admin,
    tap,
    tapHub,
    inbound,
    outbound,
    upstreams,
    readiness,
    shutdown,
    identity: identity?.credentials,
    stop: async () => {
      const summary = await shutdown.begin('admin');
      identity?.stop();
      inboundPolicy.close();
      mtls?.close();
      redirectedTargets.close();
      await Promise.all([outboundHttp.close(), inboundHttp.close()]);
      outboundH2.forceClose();
      inboundH2.forceClose();
      for (const balancer of upstreamBalancers) balancer.close();
      await tap.close();
      await admin.close();
      return summary;
    },
  };
}

/** A redirected plaintext connection's HTTP goes to the app port it was for; others to the configured app. */
function inboundAppOf(detected: DetectedConnection): { readonly localApp: SocketAddress } | undefined {
  const localApp = redirectedAppAddr(detected.connection);
  return localApp === undefined ? undefined : { localApp };
}

/** Serves /metrics from the Prometheus adapter when it backs the ProxyMetrics port. */
function metricsRenderer(container: Container): () => Promise<{ contentType: string; body: string }> {
  const prometheus = container.isBound(PrometheusProxyMetrics) ? container.get(PrometheusProxyMetrics) : undefined;
  return async () =>
    prometheus
      ? { contentType: prometheus.contentType, body: await prometheus.metricsText() }
      : { contentType: 'text/plain; charset=utf-8', body: '# metrics are not exported by this composition\n' };
}

function seedStaticEndpoints(discovery: InMemoryDiscoverEndpoints, services: readonly StaticService[]): void {
  for (const service of services) {
    const endpoints = service.addresses.map((address) => {
      const endpoint = makeEndpoint({ address });
      if (!endpoint.ok) throw endpoint.error;
      return endpoint.value;
    });
    discovery.setEndpoints(service.authority, endpoints);
  }
}

/** The `inbound_tcp_errors_total` error of each way mesh mTLS termination refuses a connection. */
const INBOUND_ERROR_OF_REFUSAL: Readonly<Record<MeshRefusal, InboundConnectionError>> = {
  handshake: 'tls_handshake_failure',
  'peer-certificate': 'peer_certificate_refused',
  'transport-header': 'transport_header_invalid',
  'not-ready': 'no_certificate',
};
