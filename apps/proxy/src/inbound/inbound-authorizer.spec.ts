import { InMemoryDiscoverInboundPolicy, InMemoryProxyMetrics } from '@weft/adapter-memory';
import { defaultClusterNetworks } from '@weft/core';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { networkAuthorization, serverPolicy, WEB_ID, WORKLOAD } from './inbound-authorization.spec-helper.js';
import { InboundAuthorizer, policyHeadersOf, withClientId } from './inbound-authorizer.js';
import { InboundPolicyWatcher } from './inbound-policy-watcher.js';
import { setMeshPeer } from './mesh-peer.js';

const APP = { ip: '127.0.0.1', port: 8080 };

describe('InboundAuthorizer', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const server of servers.splice(0)) server.close();
  });

  /** The server side of a fresh loopback connection, as the inbound listener would hand it on. */
  async function acceptedSocket(): Promise<Socket> {
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((socket) => resolve(socket));
      servers.push(server);
      server.listen(0, '127.0.0.1', () => sockets.push(connect((server.address() as { port: number }).port, '127.0.0.1')));
    });
    const socket = await accepted;
    sockets.push(socket);
    return socket;
  }

  function authorizerWith(discovery: InMemoryDiscoverInboundPolicy) {
    const metrics = new InMemoryProxyMetrics();
    const watcher = new InboundPolicyWatcher({ discovery, workload: WORKLOAD, defaultPolicy: 'deny', clusterNetworks: defaultClusterNetworks, idleMs: 0 });
    return { metrics, watcher, authorizer: new InboundAuthorizer({ policies: watcher, metrics, appAddr: APP }) };
  }

  const get = { method: 'GET', path: '/', headers: () => ({}) };

  it('decides every request of a connection under the port\'s policy of the moment, and counts each one', async () => {
    const discovery = InMemoryDiscoverInboundPolicy.create();
    const { metrics, authorizer } = authorizerWith(discovery);
    const socket = await acceptedSocket();
    expect(authorizer.authorizeRequest(socket, get)).toEqual({ allowed: true, forwarding: {} });
    expect(authorizer.authorizeRequest(socket, get).allowed).toBe(true);

    discovery.setPolicy(WORKLOAD, APP.port, serverPolicy(APP.port, 'locked', []));
    expect(authorizer.authorizeRequest(socket, get)).toEqual({ allowed: false, reason: 'no authorization for unauthenticated client from 127.0.0.1' });
    expect(metrics.value('inbound_http_authz_allow_total', { srv_name: 'all-unauthenticated', target_addr: '127.0.0.1:8080' })).toBe(2);
    expect(metrics.value('inbound_http_authz_deny_total', { srv_name: 'locked', no_tls_reason: 'loopback' })).toBe(1);
  });

  it('reads a mesh peer\'s identity and target port, watches that port while the connection is open, and forwards the identity', async () => {
    const discovery = InMemoryDiscoverInboundPolicy.create();
    discovery.setPolicy(WORKLOAD, 9090, serverPolicy(9090, 'admin', [networkAuthorization('loopback', '127.0.0.0/8')]));
    const { metrics, watcher, authorizer } = authorizerWith(discovery);
    const socket = await acceptedSocket();
    setMeshPeer(socket, { tls: { tls: 'true', peerIdentity: WEB_ID }, remoteIp: '127.0.0.1', targetPort: 9090 });

    expect(authorizer.authorizeConnection(socket)).toBe(true);
    expect(authorizer.authorizeRequest(socket, get)).toEqual({
      allowed: true,
      forwarding: { peerTls: { tls: 'true', peerIdentity: WEB_ID }, clientId: WEB_ID },
    });
    expect(watcher.watchedPorts()).toEqual([9090]);
    expect(metrics.value('inbound_tcp_authz_allow_total', { srv_port: '9090', target_addr: '127.0.0.1:9090', client_id: WEB_ID })).toBe(1);

    socket.destroy();
    await vi.waitFor(() => expect(discovery.watcherCount(WORKLOAD, 9090)).toBe(0));
    expect(watcher.watchedPorts()).toEqual([]);
  });

  it('reads request headers only for policies with routes', async () => {
    const discovery = InMemoryDiscoverInboundPolicy.create();
    const { authorizer } = authorizerWith(discovery);
    const socket = await acceptedSocket();
    const headers = vi.fn(() => ({ 'x-team': 'books' }));
    authorizer.authorizeRequest(socket, { method: 'GET', path: '/', headers });
    expect(headers).not.toHaveBeenCalled();

    discovery.setPolicy(WORKLOAD, APP.port, {
      ...serverPolicy(APP.port, 'books', []),
      httpRoutes: [
        {
          name: 'team',
          matches: [{ headers: [{ type: 'Exact', name: 'X-Team', value: 'books' }] }],
          authorizations: [networkAuthorization('loopback', '127.0.0.0/8')],
        },
      ],
    });
    expect(authorizer.authorizeRequest(socket, { method: 'GET', path: '/', headers }).allowed).toBe(true);
    expect(authorizer.authorizeRequest(socket, { method: 'GET', path: '/', headers: () => ({ 'x-team': 'web' }) }).allowed).toBe(false);
    expect(headers).toHaveBeenCalledTimes(1);
  });
});

describe('withClientId and policyHeadersOf', () => {
  it('adds the verified identity after the forwarded headers, and nothing without one', () => {
    expect(withClientId(['host', 'books'], WEB_ID)).toEqual(['host', 'books', 'weft-client-id', WEB_ID]);
    expect(withClientId(['host', 'books'], undefined)).toEqual(['host', 'books']);
  });

  it('turns a raw list into lowercase names, repeated names into lists', () => {
    expect(policyHeadersOf([':path', '/', 'X-Team', 'a', 'x-team', 'b', 'accept', '*/*'])).toEqual({
      ':path': '/',
      'x-team': ['a', 'b'],
      accept: '*/*',
    });
  });
});
