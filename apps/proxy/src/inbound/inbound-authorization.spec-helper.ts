// Test peers for inbound authorization: the real inbound listener and HTTP proxies with an authorizer, and clients by kind.
import { InMemoryDiscoverInboundPolicy, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import {
  allNetworks,
  type Cidr,
  type DefaultPolicy,
  type InboundAuthorization,
  type InboundServerPolicy,
  parseCidr,
  type PolicyWorkloadRef,
  type SocketAddress,
  unwrap,
} from '@weft/core';
import { Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { H2Proxy } from '../h2/h2-proxy.js';
import { Http1Proxy } from '../http/http1-proxy.js';
import { PortSet } from '../proxy-config.js';
import type { MeshTlsTerminator } from '../tls/mesh-tls-terminator.js';
import { listenInbound } from '../tcp/listen-inbound.js';
import type { TransportEvent } from '../transport/transport-log.js';
import { InboundAuthorizer } from './inbound-authorizer.js';
import { InboundPolicyWatcher } from './inbound-policy-watcher.js';
import { meshPeerOf, setMeshPeer } from './mesh-peer.js';

export const WEB_ID = 'web.shop.serviceaccount.identity.weft.cluster.local';
export const INTRUDER_ID = 'intruder.other.serviceaccount.identity.weft.cluster.local';
export const WORKLOAD: PolicyWorkloadRef = { namespace: 'shop', name: 'books-1' };

/**
 * The kinds of client, told apart by the loopback address they connect from. The cluster networks of these tests are
 * 127.0.0.2/31: `inNetwork` and `meshed` are inside, `unmeshed` and `wrongIdentity` outside.
 */
export const CLIENTS = {
  /** A plaintext client from outside the cluster networks. */
  unmeshed: { ip: '127.0.0.1', identity: undefined },
  /** A plaintext client from inside the cluster networks. */
  inNetwork: { ip: '127.0.0.2', identity: undefined },
  /** A peer proxy with the identity the Server policies of these tests admit. */
  meshed: { ip: '127.0.0.3', identity: WEB_ID },
  /** A peer proxy with another identity, from outside the cluster networks. */
  wrongIdentity: { ip: '127.0.0.4', identity: INTRUDER_ID },
} as const;

export type ClientKind = keyof typeof CLIENTS;
export const CLIENT_KINDS = Object.keys(CLIENTS) as ClientKind[];

export const TEST_CLUSTER_NETWORKS: readonly Cidr[] = [unwrap(parseCidr('127.0.0.2/31'))];

/**
 * The test seam for meshed clients until mTLS termination describes them: a socket from a meshed client's address is
 * given the MeshPeer that termination would record. Plaintext clients stay undescribed, as they are in production.
 */
export function describeTestPeer(socket: Socket, targetPort: number): void {
  // A socket mTLS termination decrypted is described by it already; the seam never overrides that.
  if (meshPeerOf(socket)?.tls.tls === 'true') return;
  const client = Object.values(CLIENTS).find((candidate) => candidate.ip === socket.remoteAddress);
  if (client?.identity === undefined) return;
  setMeshPeer(socket, { tls: { tls: 'true', peerIdentity: client.identity }, remoteIp: client.ip, targetPort });
}

export interface AuthorizedInboundOptions {
  readonly app: SocketAddress;
  /** The proxy's own default policy (WEFT_PROXY_DEFAULT_INBOUND_POLICY). */
  readonly defaultPolicy: DefaultPolicy;
  /** Where Server policies come from; without it the default policy decides alone. */
  readonly discovery?: InMemoryDiscoverInboundPolicy;
  /** Forward everything as opaque TCP (the app's port is an opaque port). */
  readonly opaque?: boolean;
  /** Terminates real mesh mTLS (the mtls helper's terminator); the seam then describes nobody who came over it. */
  readonly meshTls?: MeshTlsTerminator;
}

export interface AuthorizedInbound {
  readonly address: SocketAddress;
  readonly metrics: InMemoryProxyMetrics;
  readonly watcher: InboundPolicyWatcher;
  readonly events: TransportEvent[];
  close(): Promise<void>;
}

/** The real inbound listener (detection, opaque forwarding) with inbound HTTP/1 and HTTP/2 proxies, all authorizing. */
export async function startAuthorizedInbound(options: AuthorizedInboundOptions): Promise<AuthorizedInbound> {
  const metrics = new InMemoryProxyMetrics();
  const events: TransportEvent[] = [];
  const log = (event: TransportEvent): void => void events.push(event);
  const watcher = new InboundPolicyWatcher({
    discovery: options.discovery,
    workload: WORKLOAD,
    defaultPolicy: options.defaultPolicy,
    clusterNetworks: TEST_CLUSTER_NETWORKS,
    log,
  });
  const authorizer = new InboundAuthorizer({ policies: watcher, metrics, appAddr: options.app });
  const deps = { metrics, clock: new SystemClock(), random: new SeededRandom(3) };
  const role = { direction: 'inbound', localApp: options.app, authorizer } as const;
  const http1 = new Http1Proxy(role, deps, { failFastMs: 1_000 });
  const h2 = new H2Proxy(role, deps, { failFastMs: 1_000 });
  const appPort = options.app.port;
  const listener = await listenInbound({
    address: { ip: '127.0.0.1', port: 0 },
    appAddr: options.app,
    settings: {
      opaquePorts: new PortSet(options.opaque === true ? [[appPort, appPort]] : []),
      detectTimeoutMs: 10_000,
      connectTimeoutMs: 1_000,
      failFastTimeoutMs: 1_000,
    },
    metrics,
    handlers: {
      http1: ({ socket }) => {
        describeTestPeer(socket, appPort);
        http1.handleHttp1Connection(socket, Buffer.alloc(0));
      },
      h2: ({ socket }) => {
        describeTestPeer(socket, appPort);
        h2.handleH2Connection(socket);
      },
    },
    authorizeOpaque: (connection) => {
      describeTestPeer(connection.socket, appPort);
      return authorizer.authorizeConnection(connection.socket);
    },
    ...(options.meshTls ? { meshTls: options.meshTls } : {}),
    log,
  });
  return {
    address: { ip: '127.0.0.1', port: listener.address.port },
    metrics,
    watcher,
    events,
    close: async () => {
      await listener.close(0);
      await http1.close();
      h2.forceClose();
      watcher.close();
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A keep-alive agent to reuse connections; by default each request has its own. */
  readonly agent?: Agent;
}

/** One HTTP/1 request to `proxy` from the address of client `kind`. */
export function httpFrom(kind: ClientKind, proxy: SocketAddress, path = '/', options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const { method = 'GET', headers = {}, agent = false } = options;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.ip, port: proxy.port, method, path, headers, agent, localAddress: CLIENTS[kind].ip }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An authorization admitting clients by address only. */
export function networkAuthorization(name: string, cidr: string): InboundAuthorization {
  return {
    name,
    kind: 'AuthorizationPolicy',
    networks: [{ cidr: unwrap(parseCidr(cidr)), except: [] }],
    authentication: { kind: 'unauthenticated' },
  };
}

/** An authorization admitting exactly one mesh identity, from anywhere. */
export function identityAuthorization(name: string, identity: string): InboundAuthorization {
  return { name, kind: 'AuthorizationPolicy', networks: allNetworks, authentication: { kind: 'meshTLS', identities: [{ kind: 'exact', name: identity }] } };
}

/** A Server on `port` with the given authorizations and no routes. */
export function serverPolicy(port: number, name: string, authorizations: readonly InboundAuthorization[]): InboundServerPolicy {
  return { port, protocol: 'unknown', server: { kind: 'Server', name }, authorizations, httpRoutes: [], audit: false };
}
