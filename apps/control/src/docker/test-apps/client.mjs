// The e2e client app: run with `docker exec` inside its container, it calls the server and prints the outcome as JSON.
//   client.mjs serve                 an idle HTTP server on 8080 (keeps the container up; makes it a service too)
//   client.mjs http URL              one GET: {"status":200,"body":...} or {"error":...}
//   client.mjs grpc HOST:PORT        one Echo/Say call: {"reply":...} or {"error":...,"code":N}
//   client.mjs loop URL MS EVERY_MS  GETs for MS milliseconds: {"ok":N,"failed":N,"errors":[...]}
import { createServer } from 'node:http';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { echoService } from './echo-grpc.mjs';

const [mode, target, ...rest] = process.argv.slice(2);

async function get(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.text() };
}

function say(address) {
  const Echo = makeGenericClientConstructor(echoService, 'Echo');
  const client = new Echo(address, credentials.createInsecure());
  return new Promise((resolve) => {
    client.say({ text: 'hello' }, { deadline: Date.now() + 5_000 }, (error, reply) => {
      client.close();
      resolve(error ? { error: error.details, code: error.code } : { reply });
    });
  });
}

async function loop(url, durationMs, everyMs) {
  const result = { ok: 0, failed: 0, errors: [] };
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    const started = Date.now();
    try {
      const { status } = await get(url);
      if (status === 200) result.ok++;
      else {
        result.failed++;
        result.errors.push(`status ${status}`);
      }
    } catch (error) {
      result.failed++;
      result.errors.push(String(error?.cause?.code ?? error?.message ?? error));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
  }
  result.errors = result.errors.slice(0, 10);
  return result;
}

async function main() {
  switch (mode) {
    case 'serve':
      createServer((_, response) => response.end('client\n')).listen(8080, '0.0.0.0');
      return undefined;
    case 'http':
      return get(target).catch((error) => ({ error: String(error?.cause?.code ?? error?.message ?? error) }));
    case 'grpc':
      return say(target);
    case 'loop':
      return loop(target, Number(rest[0]), Number(rest[1]));
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

const result = await main();
if (result !== undefined) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
