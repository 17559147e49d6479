#!/usr/bin/env node
// weft-proxy: composition root of the data-plane proxy.
import 'reflect-metadata';
import { memoryModule } from '@weft/adapter-memory';
import { systemModule } from '@weft/adapter-system';
import { describeProxyConfig, readProxyConfig } from './proxy-config.js';
import { createProxyContainer } from './proxy-container.js';
import { EndpointBalancerFactory } from './proxy.module.js';

try {
  const config = readProxyConfig(process.env);
  const container = createProxyContainer([systemModule(), memoryModule()]);
  container.get(EndpointBalancerFactory);
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'weft-proxy', event: 'configured', listeners: describeProxyConfig(config) })}\n`,
  );
} catch (error) {
  process.stderr.write(`weft-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
