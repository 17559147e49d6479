// Tunnels: Upgrade (WebSocket) and CONNECT requests forwarded as HTTP/1, then the two sockets spliced byte for byte.
import type { ProxyMetrics } from '@weft/core';
import { type IncomingMessage, request as httpRequest, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { MeshTlsClient } from '../tls/mesh-tls-client.js';
import { relayBytes } from '../tcp/splice-tcp.js';
import { ConnectError, connectTcp } from '../transport/connect-tcp.js';
import type { ChosenEndpoint } from './forward-context.js';
import type { Http1RequestHead } from './http1-server-request.js';
import { withClientId } from '../inbound/inbound-authorizer.js';
import { forwardRequestHeaders, forwardResponseHeaders } from './hop-by-hop-headers.js';
import { writeRawProxyError } from './proxy-error.js';

export interface TunnelOptions {
  readonly metrics: ProxyMetrics;
  readonly connectTimeoutMs: number;
  readonly stripClientId: boolean;
  /** Inbound: the client's verified identity, sent as `weft-client-id`. */
  readonly clientId?: string | undefined;
  /** Outbound with mTLS: meshed endpoints are reached through their proxy's inbound port. */
  readonly meshTls?: MeshTlsClient | undefined;
}

/**
 * Sends the Upgrade or CONNECT request to the endpoint. Only a 101 (Upgrade) or a 2xx (CONNECT) turns the
 * connection into a tunnel (CVE-2024-23326: any other answer is relayed and the connection closed).
 */
export function openTunnel(req: Http1RequestHead, client: Socket, head: Buffer, endpoint: ChosenEndpoint, options: TunnelOptions): void {
  const startedAt = performance.now();
  options.metrics.requestStarted(endpoint.labels);
  let settled = false;
  const settle = (status: number | undefined, error: string | undefined): void => {
    if (settled) return;
    settled = true;
    const latencyMs = performance.now() - startedAt;
    endpoint.lease?.finish({ rttMs: latencyMs, failed: status === undefined });
    const failed = error !== undefined || status === undefined || status >= 500;
    options.metrics.responseEnded(endpoint.labels, {
      classification: failed ? 'failure' : 'success',
      latencyMs,
      ...(status === undefined ? {} : { statusCode: status }),
    });
  };

  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  client.once('close', onClientGone);
  connectUpstream(endpoint, options, abort.signal).then(
    (upstream) => {
      client.off('close', onClientGone);
      sendTunnelRequest(req, client, head, upstream, endpoint, options, settle);
    },
    (error: ConnectError) => {
      client.off('close', onClientGone);
      settle(undefined, error.code);
      if (error.code !== 'ABORTED') writeRawProxyError(client, 502, `tunnel to ${endpoint.labels.targetAddr} failed (${error.code})`);
    },
  );
}

/**
 * The endpoint's connection: TCP, or, when it is meshed and the proxy has mTLS, mTLS to its proxy with a transport
 * header saying HTTP/1, so that the peer reads the Upgrade/CONNECT request, authorizes it and tunnels to its app.
 */
function connectUpstream(endpoint: ChosenEndpoint, options: TunnelOptions, signal: AbortSignal): Promise<Socket> {
  const meshed = endpoint.lease?.endpoint;
  const connectOptions = { timeoutMs: options.connectTimeoutMs, signal };
  if (options.meshTls !== undefined && options.meshTls.isMeshed(meshed)) return options.meshTls.connect(meshed, 'http1', connectOptions);
  return connectTcp(endpoint.address, connectOptions);
}

/** Sends the Upgrade or CONNECT request over `upstream` and, if the endpoint switches, splices the two sockets. */
function sendTunnelRequest(
  req: Http1RequestHead,
  client: Socket,
  head: Buffer,
  upstream: Socket,
  endpoint: ChosenEndpoint,
  options: TunnelOptions,
  settle: (status: number | undefined, error: string | undefined) => void,
): void {
  const isConnect = req.method === 'CONNECT';
  const upstreamRequest = httpRequest({
    method: req.method,
    path: req.url,
    headers: withClientId(forwardRequestHeaders(req.rawHeaders, { tunnel: !isConnect, stripClientId: options.stripClientId }), options.clientId),
    setHost: false,
    // With no agent given, Node uses this socket (an `agent: false` would open its own connection instead).
    createConnection: () => upstream,
  });
  let spliced = false;
  client.on('error', () => {
    upstreamRequest.destroy();
    upstream.destroy();
  });
  upstreamRequest.on('error', (error: Error & { code?: string }) => {
    settle(undefined, error.code ?? error.name);
    if (!spliced) writeRawProxyError(client, 502, `tunnel to ${endpoint.labels.targetAddr} failed (${error.code ?? error.name})`);
  });
  const onSwitch = (response: IncomingMessage, socket: Socket, upstreamHead: Buffer): void => {
    const status = response.statusCode ?? 0;
    settle(status, undefined);
    const switches = isConnect ? status >= 200 && status < 300 : status === 101;
    if (!switches) {
      client.write(responseHead(response, ['content-length', '0', 'connection', 'close']));
      client.destroySoon();
      socket.destroy();
      return;
    }
    spliced = true;
    client.write(responseHead(response, isConnect ? [] : upgradeHeaders(response)));
    if (upstreamHead.length > 0) client.write(upstreamHead);
    if (head.length > 0) socket.write(head);
    splice(client, socket);
  };
  upstreamRequest.on(isConnect ? 'connect' : 'upgrade', onSwitch);
  // An upgrade the server declined: relay its answer, then close (the client cannot reuse this connection).
  upstreamRequest.on('response', (response: IncomingMessage) => {
    settle(response.statusCode, undefined);
    client.write(responseHead(response, ['connection', 'close']));
    response.pipe(client);
    response.once('end', () => client.destroySoon());
  });
  upstreamRequest.end();
}

/** Joins two sockets; each end closes the other once its pending bytes are written. */
export function splice(a: Socket, b: Socket): void {
  relayBytes(a, b);
  relayBytes(b, a);
  const onError = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', onError);
  b.on('error', onError);
  a.once('close', () => b.destroySoon());
  b.once('close', () => a.destroySoon());
}

function responseHead(response: IncomingMessage, extra: readonly string[]): string {
  const status = response.statusCode ?? 502;
  const headers = [...forwardResponseHeaders(response.rawHeaders), ...extra];
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function upgradeHeaders(response: IncomingMessage): string[] {
  const upgrade = response.headers.upgrade;
  return upgrade === undefined ? ['connection', 'upgrade'] : ['upgrade', upgrade, 'connection', 'upgrade'];
}
