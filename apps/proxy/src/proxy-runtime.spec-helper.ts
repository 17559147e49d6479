// startProxyInProcess: the whole proxy as main.ts runs it, in the test's process, every listener on a free loopback port.
import { InMemoryDiscoverEndpoints, memoryModule } from '@weft/adapter-memory';
import { prometheusModule } from '@weft/adapter-prometheus';
import { systemModule } from '@weft/adapter-system';
import { ProxyMetrics, type SocketAddress } from '@weft/core';
import { readProxyConfig } from './proxy-config.js';
import { createProxyContainer } from './proxy-container.js';
import { type RunningProxy, startProxy } from './proxy-runtime.js';
import type { TransportLog } from './transport/transport-log.js';

const anyPort: SocketAddress = { ip: '127.0.0.1', port: 0 };

export interface InProcessProxy {
  readonly proxy: RunningProxy;
  /** The static discovery the proxy reads WEFT_PROXY_ENDPOINTS into; tests may change it. */
  readonly discovery: InMemoryDiscoverEndpoints;
}

/** Starts the proxy configured by `env` (WEFT_PROXY_* variables), its local app at `app`; the caller stops it. */
export async function startProxyInProcess(env: Readonly<Record<string, string>>, app: SocketAddress, log: TransportLog = () => undefined): Promise<InProcessProxy> {
  const base = readProxyConfig(env);
  const config = {
    ...base,
    outboundAddr: anyPort,
    inboundAddr: anyPort,
    tapAddr: anyPort,
    adminAddr: anyPort,
    inboundAppAddr: app,
    upstreams: base.upstreams.map((upstream) => ({ ...upstream, listenAddr: anyPort })),
  };
  const container = createProxyContainer([systemModule(), memoryModule({ omit: [ProxyMetrics] }), prometheusModule({ version: 'test' })]);
  const discovery = container.get(InMemoryDiscoverEndpoints);
  const proxy = await startProxy({ config, container, log, staticDiscovery: discovery });
  return { proxy, discovery };
}
