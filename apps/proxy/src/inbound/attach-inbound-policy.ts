// attachInboundPolicy: builds the proxy's inbound authorization from its container: policy watcher and authorizer.
import { DiscoverInboundPolicy, type ProxyMetrics, type SocketAddress } from '@weft/core';
import type { Container } from 'inversify';
import type { TransportLog } from '../transport/transport-log.js';
import { InboundAuthorizer } from './inbound-authorizer.js';
import { DEFAULT_INBOUND_POLICY_SETTINGS, type InboundPolicySettings } from './inbound-policy-settings.js';
import { InboundPolicyWatcher } from './inbound-policy-watcher.js';

export interface AttachInboundPolicyOptions {
  readonly container: Container;
  readonly metrics: ProxyMetrics;
  /** The local application (WEFT_PROXY_INBOUND_APP_ADDR); its port is watched for as long as the proxy runs. */
  readonly appAddr: SocketAddress;
  /** WEFT_PROXY_DEFAULT_INBOUND_POLICY and friends; all-unauthenticated when not given. */
  readonly settings?: InboundPolicySettings;
  readonly log?: TransportLog;
}

export interface InboundPolicy {
  readonly authorizer: InboundAuthorizer;
  readonly watcher: InboundPolicyWatcher;
  /** Ends every policy watch. */
  close(): void;
}

/**
 * Watches port policies through the container's DiscoverInboundPolicy (when one is bound; otherwise every port keeps
 * the default policy) and authorizes with them. The app's port is watched from the start, so that discovery has
 * usually answered for it before the first client arrives.
 */
export function attachInboundPolicy(options: AttachInboundPolicyOptions): InboundPolicy {
  const settings = options.settings ?? DEFAULT_INBOUND_POLICY_SETTINGS;
  const discovery = options.container.isBound(DiscoverInboundPolicy)
    ? options.container.get<DiscoverInboundPolicy>(DiscoverInboundPolicy)
    : undefined;
  const watcher = new InboundPolicyWatcher({
    discovery,
    workload: settings.workload,
    defaultPolicy: settings.defaultPolicy,
    clusterNetworks: settings.clusterNetworks,
    ...(options.log ? { log: options.log } : {}),
  });
  const appPort = watcher.retain(options.appAddr.port);
  const authorizer = new InboundAuthorizer({ policies: watcher, metrics: options.metrics, appAddr: options.appAddr });
  return {
    authorizer,
    watcher,
    close: () => {
      appPort.release();
      watcher.close();
    },
  };
}
