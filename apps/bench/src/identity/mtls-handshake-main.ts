// Entry point of the mTLS handshake client: full handshakes against a proxy's inbound port until a count or a time; one JSON line out.
import { readFileSync } from 'node:fs';
import { InvalidBenchOptionError } from '../bench-options.js';
import { failHelper, readHelperNumbers, readHelperString } from '../helper-args.js';
import { measureHandshakes } from './mtls-handshakes.js';

const argv = process.argv.slice(2);
const numbers = readHelperNumbers(argv, ['port', 'target-port', 'max-count', 'duration-ms', 'warmup-count', 'concurrency']);
const files = ['cert-file', 'key-file', 'ca-file'].map((name) => readHelperString(argv, name));
const serverName = readHelperString(argv, 'server-name');

async function main(): Promise<void> {
  if (!numbers.ok) return failHelper('mtls-handshake', numbers.error);
  const [certFile, keyFile, caFile] = files;
  if (certFile === undefined || keyFile === undefined || caFile === undefined || serverName === undefined) {
    return failHelper('mtls-handshake', new InvalidBenchOptionError('', 'needs --cert-file, --key-file, --ca-file (PEM) and --server-name (the proxy identity)'));
  }
  const report = await measureHandshakes({
    port: numbers.value.port,
    serverName,
    targetPort: numbers.value['target-port'],
    credentials: { certificateChainPem: readFileSync(certFile, 'utf8'), privateKeyPem: readFileSync(keyFile, 'utf8') },
    trustAnchorsPem: readFileSync(caFile, 'utf8'),
    maxCount: numbers.value['max-count'],
    durationMs: numbers.value['duration-ms'],
    warmupCount: numbers.value['warmup-count'],
    concurrency: numbers.value.concurrency,
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main().catch((error: unknown) => failHelper('mtls-handshake', error instanceof Error ? error : new Error(String(error))));
