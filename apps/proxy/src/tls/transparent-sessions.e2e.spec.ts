import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpCall, startUpstream, type Upstream } from '../http/http-test-kit.spec-helper.js';
import { TwoProxyMesh } from './two-proxy-mesh.spec-helper.js';

// A transparent sidecar (WEFT_PROXY_TRANSPARENT) serves every port of its app: a mesh session goes to the app port
// its transport header names, the port the client asked for, rather than to one configured app address.
describe('mesh sessions to a transparent sidecar', () => {
  let mesh: TwoProxyMesh;
  const apps: Upstream[] = [];

  beforeAll(async () => {
    mesh = await TwoProxyMesh.create();
  });
  afterEach(async () => {
    await mesh.stopProxies();
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await mesh.remove();
  });

  /** Two apps behind one server proxy whose configured app address is a third, unused port. */
  async function twoApps(): Promise<{ http: Upstream; admin: Upstream; unused: Upstream }> {
    const answer = (name: string) => (_req: unknown, res: { end(body: string): void }) => res.end(name);
    const http = await startUpstream((req, res) => answer('http')(req, res));
    const admin = await startUpstream((req, res) => answer('admin')(req, res));
    const unused = await startUpstream((req, res) => answer('configured')(req, res));
    apps.push(http, admin, unused);
    return { http, admin, unused };
  }

  it('sends each session to the app port its client asked for', async () => {
    const { http, admin, unused } = await twoApps();
    const server = await mesh.proxyFor('web', { appAddr: unused.address, transparent: true });
    const client = await mesh.proxyFor('client', { upstream: true });
    const books = client.upstreamAddress().port;

    mesh.route(client, server, http.address);
    const first = await httpCall(books);
    mesh.route(client, server, admin.address);
    const second = await httpCall(books);

    expect([first.status, first.body.toString()]).toEqual([200, 'http']);
    expect([second.status, second.body.toString()]).toEqual([200, 'admin']);
    expect(unused.requests).toHaveLength(0);
    expect(http.requests[0]?.headers['weft-client-id']).toBe(client.identityName);
  });

  it('without it, every session goes to the configured app address', async () => {
    const { http, unused } = await twoApps();
    const server = await mesh.proxyFor('web', { appAddr: unused.address });
    const client = await mesh.proxyFor('client', { upstream: true });
    mesh.route(client, server, http.address);

    const answered = await httpCall(client.upstreamAddress().port);

    expect([answered.status, answered.body.toString()]).toEqual([200, 'configured']);
    expect(http.requests).toHaveLength(0);
  });
});
