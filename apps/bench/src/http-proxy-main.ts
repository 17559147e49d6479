// Entry point of the http-proxy contender: the npm `http-proxy` package behind a Node http server, with a keep-alive agent.
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';
import { failHelper, readHelperNumbers } from './helper-args.js';

const numbers = readHelperNumbers(process.argv.slice(2), ['port', 'upstream-port']);
if (!numbers.ok) failHelper('http-proxy', numbers.error);
else {
  const agent = new Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 128 });
  const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${numbers.value['upstream-port']}`, agent });
  proxy.on('error', (_error, _request, response) => {
    if ('writeHead' in response && !response.headersSent) response.writeHead(502).end();
    else response.destroy();
  });
  const server = createServer((request, response) => proxy.web(request, response));
  server.keepAliveTimeout = 60_000;
  server.listen(numbers.value.port, '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    agent.destroy();
    process.exit(0);
  });
}
