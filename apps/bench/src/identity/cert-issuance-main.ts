// Entry point of the issuance helper: `ca` signs with the X.509 CA in-process, `grpc` calls the control plane; one JSON line out.
import { parseSocketAddress } from '@weft/core';
import { failHelper, readHelperNumbers, readHelperString } from '../helper-args.js';
import { InvalidBenchOptionError } from '../bench-options.js';
import { measureCaIssuance, measureGrpcIssuance } from './cert-issuance.js';

const [path, ...argv] = process.argv.slice(2);
const numbers = readHelperNumbers(argv, ['max-count', 'duration-ms', 'warmup-count', 'concurrency']);
const identityDir = readHelperString(argv, 'identity-dir');

async function main(): Promise<void> {
  if (!numbers.ok) return failHelper('cert-issuance', numbers.error);
  if (identityDir === undefined) return failHelper('cert-issuance', new InvalidBenchOptionError('', '--identity-dir needs the folder with ca.crt, issuer.crt, issuer.key and token.key'));
  const loop = { identityDir, maxCount: numbers.value['max-count'], durationMs: numbers.value['duration-ms'], warmupCount: numbers.value['warmup-count'], concurrency: numbers.value.concurrency };
  if (path === 'ca') {
    const csrs = readHelperNumbers(argv, ['csr-count']);
    if (!csrs.ok) return failHelper('cert-issuance', csrs.error);
    process.stdout.write(`${JSON.stringify(await measureCaIssuance({ ...loop, csrCount: csrs.value['csr-count'] }))}\n`);
  } else if (path === 'grpc') {
    const grpc = readHelperNumbers(argv, ['calls-per-identity', 'control-pid']);
    if (!grpc.ok) return failHelper('cert-issuance', grpc.error);
    const address = parseSocketAddress(readHelperString(argv, 'addr') ?? '');
    if (!address.ok || !address.value.ip.startsWith('127.')) {
      return failHelper('cert-issuance', new InvalidBenchOptionError(readHelperString(argv, 'addr') ?? '', '--addr must be the control plane on loopback, e.g. 127.0.0.1:8086'));
    }
    process.stdout.write(`${JSON.stringify(await measureGrpcIssuance({ ...loop, address: address.value, callsPerIdentity: grpc.value['calls-per-identity'], controlPid: grpc.value['control-pid'] }))}\n`);
  } else {
    failHelper('cert-issuance', new InvalidBenchOptionError(path ?? '', 'the first argument is "ca" or "grpc"'));
  }
}

await main().catch((error: unknown) => failHelper('cert-issuance', error instanceof Error ? error : new Error(String(error))));
