#!/usr/bin/env node
// weft-control: composition root of the control plane; the orchestrator flag picks the adapters, nothing else changes.
import 'reflect-metadata';
import { systemModule } from '@weft/adapter-system';
import { IdentityIssuer } from '@weft/core';
import { startAdminServer } from './admin-server.js';
import { CONTROL_USAGE, parseControlArgs } from './control-args.js';
import { createControlContainer } from './control-container.js';
import { orchestratorModules } from './orchestrator-modules.js';

function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'weft-control', event, ...fields })}\n`);
}

async function main(): Promise<void> {
  const args = parseControlArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${CONTROL_USAGE}\n`);
    return;
  }
  const container = createControlContainer([systemModule(), ...orchestratorModules(args.orchestrator)]);
  container.get(IdentityIssuer);

  const admin = await startAdminServer(args.adminAddr.ip, args.adminAddr.port);
  admin.setReady(true);
  log('started', { orchestrator: args.orchestrator, admin: `${admin.address.address}:${admin.address.port}` });

  const stop = (signal: string): void => {
    log('stopping', { signal });
    admin.setReady(false);
    void admin.close().then(() => log('stopped'));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`weft-control: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
