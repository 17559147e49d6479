// Entry point of the endpoint-propagation helper: subscribes as many proxies, edits the mesh file, prints one JSON line of delays.
import { parseSocketAddress } from '@weft/core';
import { InvalidBenchOptionError } from '../bench-options.js';
import { failHelper, readHelperNumbers, readHelperString } from '../helper-args.js';
import { measureEndpointPropagation } from './endpoint-propagation.js';

const argv = process.argv.slice(2);
const NUMBERS = ['subscribers', 'changes', 'warmup-changes', 'spacing-ms', 'phase-spread-ms', 'first-message-timeout-ms', 'change-timeout-ms'] as const;

async function main(): Promise<void> {
  const numbers = readHelperNumbers(argv, NUMBERS);
  if (!numbers.ok) return failHelper('endpoint-propagation', numbers.error);
  const addr = readHelperString(argv, 'addr') ?? '';
  const address = parseSocketAddress(addr);
  if (!address.ok || !address.value.ip.startsWith('127.')) {
    return failHelper('endpoint-propagation', new InvalidBenchOptionError(addr, '--addr must be the control plane on loopback, e.g. 127.0.0.1:8086'));
  }
  const meshFile = readHelperString(argv, 'mesh-file');
  if (meshFile === undefined) return failHelper('endpoint-propagation', new InvalidBenchOptionError('', '--mesh-file needs the mesh.yaml the control plane serves'));
  const n = numbers.value;
  const report = await measureEndpointPropagation({
    address: addr,
    meshFile,
    subscribers: n.subscribers,
    changes: n.changes,
    warmupChanges: n['warmup-changes'],
    spacingMs: n['spacing-ms'],
    phaseSpreadMs: n['phase-spread-ms'],
    firstMessageTimeoutMs: n['first-message-timeout-ms'],
    changeTimeoutMs: n['change-timeout-ms'],
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main().catch((error: unknown) => failHelper('endpoint-propagation', error instanceof Error ? error : new Error(String(error))));
