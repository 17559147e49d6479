// The objects made for every request keep no function in a field (PER_REQUEST_FUNCTIONS in forward-exchange.ts):
// one closure kept in such an object made the young-generation collector promote every request's objects.
import { FixedClock, InMemoryDiscoverEndpoints, SeededRandom } from '@weft/adapter-memory';
import { type Authority, makeEndpoint, parseAuthority, unwrap } from '@weft/core';
import type { ServerHttp2Stream } from 'node:http2';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { H2Attempt } from '../h2/h2-attempt.js';
import { H2Exchange } from '../h2/h2-exchange.js';
import { H2RequestBody } from '../h2/h2-request-body.js';
import type { H2Upstream } from '../h2/h2-upstream-sessions.js';
import type { H2ForwardContext } from '../h2/h2-forward-context.js';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { AttemptHandler } from './attempt-handler.js';
import type { ChosenEndpoint, ForwardContext, Http1Destination } from './forward-context.js';
import { Http1ServerRequest } from './http1-server-request.js';
import { Http1ServerResponse, type ResponseConnection } from './http1-server-response.js';
import { ProxyExchange } from './proxy-exchange.js';

/** The names of the object's own properties whose value is a function. */
function functionFields(value: object): string[] {
  return Object.entries(value)
    .filter(([, field]) => typeof field === 'function')
    .map(([name]) => name);
}

const books: Authority = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));
const address = { ip: '127.0.0.1', port: 7000 };
const direct: Http1Destination = { kind: 'direct', address, authority: undefined };
const chosen: ChosenEndpoint = { address, labels: { direction: 'outbound', targetAddr: '127.0.0.1:7000', tls: { tls: 'no_identity', reason: 'loopback' } }, lease: undefined };
const context = { tap: undefined, stripClientId: false } as unknown as ForwardContext & H2ForwardContext;

function http1Request(): { req: Http1ServerRequest; res: Http1ServerResponse } {
  const socket = new Socket();
  const req = new Http1ServerRequest(socket, 'GET', '/books/1', ['Host', 'books', 'Accept', '*/*'], 1, 1, true, 'books', undefined, undefined, undefined);
  const connection: ResponseConnection = { socket, keepAliveSeconds: 5, keepAliveAfter: () => true, responseFinished: () => undefined };
  return { req, res: new Http1ServerResponse(connection, req) };
}

describe('objects made per request', () => {
  it('an HTTP/1 request, its response, exchange and attempt keep no function in a field', () => {
    const { req, res } = http1Request();
    const exchange = new ProxyExchange(context, req, res, direct);
    expect(functionFields(req)).toEqual([]);
    expect(functionFields(res)).toEqual([]);
    expect(functionFields(exchange)).toEqual([]);
    expect(functionFields(new AttemptHandler(exchange, chosen))).toEqual([]);
  });

  it('an HTTP/2 exchange and its attempt keep no function in a field', () => {
    const downstream = { session: undefined } as unknown as ServerHttp2Stream;
    const exchange = new H2Exchange(context, downstream, [':method', 'GET', ':path', '/books/1', ':authority', 'books'], true, direct);
    expect(functionFields(exchange)).toEqual([]);
    expect(functionFields(new H2Attempt(chosen, {} as H2Upstream))).toEqual([]);
    expect(functionFields(new H2RequestBody(new PassThrough(), 1024, true))).toEqual([]);
  });

  it("a balancer's lease keeps no function in a field", () => {
    const discovery = new InMemoryDiscoverEndpoints();
    discovery.setEndpoints(books, [unwrap(makeEndpoint({ address: '10.0.0.1:7000' }))]);
    const balancer = new EndpointBalancer(discovery, books, new FixedClock(0), new SeededRandom(1));
    const lease = balancer.pick();
    expect(lease).toBeDefined();
    expect(functionFields(lease as object)).toEqual([]);
  });
});
