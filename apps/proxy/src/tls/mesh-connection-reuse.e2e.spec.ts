import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCall, startUpstream, type Upstream } from '../http/http-test-kit.spec-helper.js';
import { type MeshProxy, metricSum, TwoProxyMesh } from './two-proxy-mesh.spec-helper.js';

// An mTLS connection between two proxies costs a handshake on both: once open, it carries request after request and
// survives the pauses of ordinary traffic, rather than being cycled after a request count or a few idle seconds.
describe('mTLS connections between proxies are kept', () => {
  let mesh: TwoProxyMesh;
  let app: Upstream;
  let server: MeshProxy;
  let client: MeshProxy;

  beforeAll(async () => {
    mesh = await TwoProxyMesh.create();
    app = await startUpstream();
    server = await mesh.proxyFor('web', { appAddr: app.address });
    client = await mesh.proxyFor('client', { upstream: true });
    mesh.route(client, server, app.address);
  });
  afterAll(async () => {
    await mesh.remove();
    await app.close();
  });

  const meshConnections = async () => metricSum(await server.metrics(), 'tcp_open_total', { direction: 'inbound', tls: 'true' });

  it('past a thousand requests and an idle pause of six seconds, on one connection', { timeout: 30_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const port = client.upstreamAddress().port;
    const statuses = new Set<number>();
    for (let i = 0; i < 1_100; i++) statuses.add((await httpCall(port, { agent })).status);
    agent.destroy();
    await sleep(6_000);
    // A new connection from the app: its own keep-alive with the client proxy is not what is measured here.
    statuses.add((await httpCall(port)).status);

    expect([...statuses]).toEqual([200]);
    expect(app.requests).toHaveLength(1_101);
    expect(await meshConnections()).toBe(1);
  });
});
