// Entry point of the fixed-rate generator process: prints one JSON report line (see open-loop-generator.ts).
import { failHelper, readHelperNumbers, readHelperString } from './helper-args.js';
import { runOpenLoop } from './open-loop-generator.js';

const argv = process.argv.slice(2);
const numbers = readHelperNumbers(argv, ['rate', 'duration-ms', 'warmup-ms', 'connections']);
const url = readHelperString(argv, 'url');
if (!numbers.ok) failHelper('open-loop', numbers.error);
else if (url === undefined || !url.startsWith('http://127.')) failHelper('open-loop', new Error('--url must be a loopback http:// URL, e.g. http://127.0.0.1:8080/'));
else {
  const { rate, connections } = numbers.value;
  const report = await runOpenLoop({ url, rate, connections, durationMs: numbers.value['duration-ms'], warmupMs: numbers.value['warmup-ms'] });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
