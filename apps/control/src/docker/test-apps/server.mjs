// The e2e server app: plain HTTP on 8080 and gRPC on 9090, knowing nothing of Weft.
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { echoService } from './echo-grpc.mjs';

const name = process.env.APP_NAME ?? hostname();

createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ from: name, method: request.method, path: request.url }));
}).listen(8080, '0.0.0.0');

const grpc = new Server();
grpc.addService(echoService, {
  say: (call, callback) => callback(null, { from: name, echo: call.request.text }),
});
grpc.bindAsync('0.0.0.0:9090', ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  console.log(JSON.stringify({ event: 'serving', http: 8080, grpc: 9090 }));
});
