#!/usr/bin/env node
// weft-proxy: composition root of the data-plane proxy.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { describeShutdownSummary, handleShutdownSignals } from './admin/index.js';
import { composeProxyContainer } from './control/compose-proxy-container.js';
import { describeProxyConfig, readProxyConfig } from './proxy-config.js';
import { type RunningProxy, startProxy } from './proxy-runtime.js';
import type { TransportEvent } from './transport/transport-log.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function log(event: TransportEvent | Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'weft-proxy', ...event })}\n`);
}

async function main(): Promise<void> {
  const config = readProxyConfig(process.env);
  // Standalone (WEFT_PROXY_ENDPOINTS, then DNS) unless WEFT_PROXY_CONTROL_ADDR names a control plane.
  const composition = composeProxyContainer(config, { version, log });
  const { container, staticDiscovery } = composition;
  let proxy: RunningProxy;
  try {
    proxy = await startProxy({ config, container, log, ...(staticDiscovery ? { staticDiscovery } : {}) });
  } catch (error) {
    // Open control-plane streams would keep the process alive after a failed start.
    composition.close();
    throw error;
  }
  log({ event: 'started', message: `weft-proxy ${version} serving`, settings: describeProxyConfig(config) });

  handleShutdownSignals({ source: process, shutdown: proxy.shutdown, exit: (code) => process.exit(code), log });
  const summary = await proxy.shutdown.finished;
  await proxy.stop();
  // After the drain: requests that were finishing still followed discovery and policy until the end.
  composition.close();
  log({ event: 'stopped', message: describeShutdownSummary(summary) });
  process.exitCode = summary.outcome === 'drained' ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`weft-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
