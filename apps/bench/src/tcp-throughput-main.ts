// Entry point of the TCP helper: `sink --port P` serves until stopped; `source --port P --bytes N` pushes N bytes and prints JSON.
import { failHelper, readHelperNumbers } from './helper-args.js';
import { pushTcpBytes, startTcpSink } from './tcp-throughput.js';

const [role, ...argv] = process.argv.slice(2);
if (role === 'sink') {
  const numbers = readHelperNumbers(argv, ['port']);
  if (!numbers.ok) failHelper('tcp-sink', numbers.error);
  else {
    const server = await startTcpSink(numbers.value.port);
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
  }
} else if (role === 'source') {
  const numbers = readHelperNumbers(argv, ['port', 'bytes', 'timeout-ms']);
  if (!numbers.ok) failHelper('tcp-source', numbers.error);
  else {
    try {
      const result = await pushTcpBytes(numbers.value.port, numbers.value.bytes, numbers.value['timeout-ms']);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } catch (error) {
      failHelper('tcp-source', error instanceof Error ? error : new Error(String(error)));
    }
  }
} else {
  failHelper('tcp-throughput', new Error(`unknown role ${JSON.stringify(role)}; use "sink --port P" or "source --port P --bytes N --timeout-ms T"`));
}
