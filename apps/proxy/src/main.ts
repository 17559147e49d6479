#!/usr/bin/env node
// weft-proxy: composition root of the data-plane proxy.
import 'reflect-metadata';
import { GrpcIdentityClient, grpcIdentityClientModule } from '@weft/adapter-grpc';
import { InMemoryDiscoverEndpoints, memoryModule } from '@weft/adapter-memory';
import { prometheusModule } from '@weft/adapter-prometheus';
import { systemModule } from '@weft/adapter-system';
import { ProxyMetrics } from '@weft/core';
import { readFileSync } from 'node:fs';
import { describeShutdownSummary, handleShutdownSignals } from './admin/index.js';
import { describeProxyConfig, readProxyConfig } from './proxy-config.js';
import { createProxyContainer } from './proxy-container.js';
import { startProxy } from './proxy-runtime.js';
import type { TransportEvent } from './transport/transport-log.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function log(event: TransportEvent | Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'weft-proxy', ...event })}\n`);
}

async function main(): Promise<void> {
  const config = readProxyConfig(process.env);
  // Standalone until the gRPC discovery client lands: endpoints come from WEFT_PROXY_ENDPOINTS, names
  // unknown to it fall back to DNS.
  const container = createProxyContainer([
    systemModule({ resolveNames: {} }),
    memoryModule({ omit: [ProxyMetrics] }),
    prometheusModule({ version }),
    // Identity: the proxy's WorkloadCertifier is the control plane's Identity service, reached over gRPC.
    ...(config.identity ? [grpcIdentityClientModule({ address: config.identity.certifierAddr })] : []),
  ]);
  const proxy = await startProxy({ config, container, log, staticDiscovery: container.get(InMemoryDiscoverEndpoints) });
  log({ event: 'started', message: `weft-proxy ${version} serving`, settings: describeProxyConfig(config) });

  handleShutdownSignals({ source: process, shutdown: proxy.shutdown, exit: (code) => process.exit(code), log });
  const summary = await proxy.shutdown.finished;
  await proxy.stop();
  if (config.identity) container.get(GrpcIdentityClient).close();
  log({ event: 'stopped', message: describeShutdownSummary(summary) });
  process.exitCode = summary.outcome === 'drained' ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`weft-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
