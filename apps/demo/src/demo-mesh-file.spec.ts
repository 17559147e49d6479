import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadMeshFile, type MeshConfig, type MeshInstance, meshInboundPolicyOf } from '@weft/adapter-file';
import { authorize, compileServiceProfile, type CompiledServiceProfile, matchProfileRoute } from '@weft/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCatalogSettings } from './catalog-server.js';
import { CATALOG_SERVICE_NAME } from './catalog-proto.js';
import { DEMO_MESH_FILE, DEMO_SERVICES } from './demo-mesh-file.js';
import type { DemoEnv, SettingsResult } from './demo-settings.js';
import { readFeedSettings } from './feed-server.js';
import { readTrafficSettings, TRAFFIC_ROUTES } from './traffic-generator.js';
import { readWebSettings } from './web-server.js';

const demoRoot = dirname(DEMO_MESH_FILE);

const readers: Record<string, (env: DemoEnv) => SettingsResult<unknown>> = {
  web: readWebSettings,
  catalog: readCatalogSettings,
  feed: readFeedSettings,
  traffic: readTrafficSettings,
};

let mesh: MeshConfig;

beforeAll(async () => {
  const loaded = await loadMeshFile(DEMO_MESH_FILE);
  if (!loaded.ok) throw new Error(`the demo mesh does not load:\n${loaded.error.map((error) => error.toString()).join('\n')}`);
  mesh = loaded.value;
});

function instance(name: string): MeshInstance {
  const found = mesh.instances.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`the demo mesh has no instance ${name}`);
  return found;
}

function profileOf(service: string): CompiledServiceProfile {
  const profile = mesh.profiles.get(`${service}.demo.svc.cluster.local`);
  if (!profile) throw new Error(`the demo mesh has no profile for ${service}`);
  const compiled = compileServiceProfile(profile);
  if (!compiled.ok) throw compiled.error;
  return compiled.value;
}

/** The environment weft up gives an instance: its own env plus one loopback address per upstream. */
function launchEnv(entry: MeshInstance): Record<string, string> {
  const upstreams = Object.fromEntries(entry.upstreams.map((upstream, index) => [upstream.env, `127.0.0.1:${15000 + index}`]));
  return { ...entry.launch?.env, ...upstreams };
}

describe('the demo mesh file (apps/demo/mesh.yaml)', () => {
  it('loads with the file adapter and launches every demo service from the package folder, whatever the cwd', () => {
    expect(mesh.services.map((service) => service.name).sort()).toEqual([...DEMO_SERVICES].sort());
    for (const entry of mesh.instances) {
      expect(entry.launch?.cwd, entry.name).toBe(demoRoot);
      const [program, script, ...rest] = entry.launch?.command ?? [];
      expect([program, rest]).toEqual(['node', []]);
      expect(script).toBe(`dist/${entry.service}.js`);
      // The built file comes from an entry file of the same name.
      expect(existsSync(join(demoRoot, 'src', `${entry.service}.ts`)), entry.name).toBe(true);
    }
  });

  it('gives every instance the settings its program reads: its port, and an address for each upstream it calls', () => {
    for (const entry of mesh.instances) {
      const reader = readers[entry.service];
      if (!reader) throw new Error(`no settings reader for ${entry.service}`);
      const settings = reader(launchEnv(entry));
      expect(settings, entry.name).toMatchObject({ ok: true, value: { port: entry.ports[0]?.port } });
    }
    expect(instance('web').upstreams.map((upstream) => [upstream.env, upstream.target])).toEqual([
      ['CATALOG_ADDR', 'catalog.demo.svc.cluster.local:9090'],
      ['FEED_ADDR', 'feed.demo.svc.cluster.local:8081'],
    ]);
    expect(instance('traffic').upstreams.map((upstream) => upstream.env)).toEqual(['WEB_ADDR']);
  });

  it('has one plain, one slow and one flaky catalog instance', () => {
    const catalogs = mesh.instances.filter((entry) => entry.service === 'catalog');
    const settings = catalogs.map((entry) => {
      const read = readCatalogSettings(launchEnv(entry));
      if (!read.ok) throw new Error(read.problems.join('; '));
      return { name: entry.name, delayMs: read.value.delayMs, failRate: read.value.failRate, instance: read.value.instance };
    });
    expect(settings).toEqual([
      { name: 'catalog', delayMs: 0, failRate: 0, instance: 'catalog' },
      { name: 'catalog-slow', delayMs: 250, failRate: 0, instance: 'catalog-slow' },
      { name: 'catalog-flaky', delayMs: 0, failRate: 0.2, instance: 'catalog-flaky' },
    ]);
  });

  it('retries GetItem and times it out sooner than the slow instance answers; ListItems waits for it', () => {
    const profile = profileOf('catalog');
    const getItem = matchProfileRoute(profile, { method: 'POST', path: `/${CATALOG_SERVICE_NAME}/GetItem` });
    const listItems = matchProfileRoute(profile, { method: 'POST', path: `/${CATALOG_SERVICE_NAME}/ListItems` });
    expect(getItem).toMatchObject({ name: 'GetItem', isRetryable: true, timeoutMs: 200 });
    expect(listItems).toMatchObject({ name: 'ListItems', isRetryable: false, timeoutMs: 2000 });
    expect(listItems?.timeoutMs).toBeGreaterThan(250);
    expect(profile.profile.retryBudget).toMatchObject({ retryRatio: 0.2, minRetriesPerSecond: 10 });
  });

  it('names a web route for every path the traffic generator calls', () => {
    const profile = profileOf('web');
    const named = TRAFFIC_ROUTES.map((route) => matchProfileRoute(profile, { method: 'GET', path: route.path(() => 0.5) })?.name);
    expect(named).toEqual(['GET /api/items', 'GET /api/items/{id}', 'GET /api/feed', 'GET /', 'GET /healthz']);
  });

  it('admits only meshed demo workloads to the catalog, and only the web to the feed', () => {
    const identity = (name: string) => instance(name).identityName ?? '';
    const catalogPolicy = meshInboundPolicyOf(mesh, { namespace: 'demo', name: 'catalog' }, instance('catalog').ports[0]?.port ?? 0);
    const feedPolicy = meshInboundPolicyOf(mesh, { namespace: 'demo', name: 'feed' }, instance('feed').ports[0]?.port ?? 0);
    if (!catalogPolicy.ok || !feedPolicy.ok) throw new Error('the demo policies do not compile');
    const request = { method: 'POST', path: `/${CATALOG_SERVICE_NAME}/GetItem` };
    const meshed = (name: string) => ({ clientIp: '127.0.0.1', clientIdentity: identity(name), tls: true });

    expect(authorize(meshed('web'), request, catalogPolicy.value).allowed).toBe(true);
    expect(authorize(meshed('traffic'), request, catalogPolicy.value).allowed).toBe(true);
    expect(authorize({ clientIp: '127.0.0.1', tls: false }, request, catalogPolicy.value).allowed).toBe(false);
    const outsider = { clientIp: '127.0.0.1', clientIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local', tls: true };
    expect(authorize(outsider, request, catalogPolicy.value).allowed).toBe(false);

    expect(authorize(meshed('web'), { method: 'GET', path: '/' }, feedPolicy.value).allowed).toBe(true);
    expect(authorize(meshed('traffic'), { method: 'GET', path: '/' }, feedPolicy.value).allowed).toBe(false);
    expect(authorize({ clientIp: '127.0.0.1', tls: false }, { method: 'GET', path: '/' }, feedPolicy.value).allowed).toBe(false);
  });

  it('leaves the web front end open to a browser outside the mesh', () => {
    const webPolicy = meshInboundPolicyOf(mesh, { namespace: 'demo', name: 'web' }, instance('web').ports[0]?.port ?? 0);
    if (!webPolicy.ok) throw new Error('the web policy does not compile');
    expect(authorize({ clientIp: '127.0.0.1', tls: false }, { method: 'GET', path: '/' }, webPolicy.value).allowed).toBe(true);
  });
});
