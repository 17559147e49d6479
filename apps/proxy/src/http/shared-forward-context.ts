// sharedForwardContext: the forward context both proxies build alike from a role: targets, TLS status, ports, options.
import type { Endpoint, TlsStatus } from '@weft/core';
import type { ForwardContext, ForwardOptions } from './forward-context.js';
import type { Http1ProxyDeps, Http1ProxyRole } from './http1-proxy.js';
import { OutboundTargets } from './outbound-targets.js';

/** What every forward context holds but the protocol's own upstream connections (pools, sessions). */
export type SharedForwardContext = Omit<ForwardContext, 'pools'>;

/**
 * Builds the shared context; outbound, with the targets (balancer, profile watch) it is to close after `targetIdleMs`.
 * `meshTls`, when the proxy has mTLS, tells the TLS status of the connections to each endpoint, for labels.
 */
export function sharedForwardContext(
  role: Http1ProxyRole,
  deps: Http1ProxyDeps,
  options: ForwardOptions & { readonly targetIdleMs: number },
  meshTls?: { tlsStatusOf(endpoint: Endpoint): TlsStatus },
): SharedForwardContext {
  const targets = role.direction === 'outbound' ? new OutboundTargets(role.balancers, role.profiles, deps.clock, options.targetIdleMs) : undefined;
  const tls: TlsStatus =
    role.direction === 'outbound'
      ? { tls: 'no_identity', reason: 'not_provided_by_service_discovery' }
      : { tls: 'no_identity', reason: 'no_tls_from_remote' };
  return {
    direction: role.direction,
    metrics: deps.metrics,
    random: deps.random,
    targets,
    options,
    tls,
    stripClientId: role.direction === 'inbound',
    directLabels: new Map(),
    tap: deps.tap,
    ...(meshTls === undefined ? {} : { connectTlsOf: (endpoint: Endpoint) => meshTls.tlsStatusOf(endpoint) }),
  };
}
