#!/usr/bin/env node
// weft-control: composition root of the control plane; the orchestrator flag picks the adapters, nothing else changes.
import 'reflect-metadata';
import { runControl } from './run-control.js';

function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'weft-control', event, ...fields })}\n`);
}

const code = await runControl(process.argv.slice(2), {
  signals: process,
  log,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
// Exits now, whatever handles are left (a connection the grace period dropped): the stop is bounded.
process.exit(code);
