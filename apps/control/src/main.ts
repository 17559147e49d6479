#!/usr/bin/env node
// weft-control: composition root of the control plane; the orchestrator flag picks the adapters, nothing else changes.
import 'reflect-metadata';
import { CONTROL_USAGE, parseControlArgs } from './control-args.js';
import { startControlPlane } from './control-plane.js';

function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'weft-control', event, ...fields })}\n`);
}

async function main(): Promise<void> {
  const args = parseControlArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${CONTROL_USAGE}\n`);
    return;
  }
  const control = await startControlPlane(args, { log });
  const stop = (signal: string): void => {
    log('stopping', { signal });
    void control.close().then(() => log('stopped'));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`weft-control: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
