import {
  type Authority,
  defaultServiceProfile,
  formatDuration,
  parseAuthority,
  type ServiceAuthority,
  type ServiceProfile,
  unwrap,
} from '@weft/core';
import { describeDiscoverProfileContract, UpdateRecorder } from '@weft/fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiscoverProfile } from './file-discover-profile.js';
import type { MeshFile, MeshFileProfile, MeshFileService } from './mesh-file.js';
import { MeshFileFixture, meshText } from './mesh-file-fixture.spec-helper.js';

function serviceOf(text: string): ServiceAuthority {
  const parsed = unwrap(parseAuthority(text));
  if (parsed.kind !== 'service') throw new Error(`the file harness writes profiles of services only, not ${text}`);
  return parsed;
}

/** Writes each profile the contract sets, with the services it is for and splits to (a profile needs its services). */
function profilesMesh(profiles: ReadonlyMap<string, { target: ServiceAuthority; profile: ServiceProfile }>): MeshFile {
  const services = new Map<string, MeshFileService>();
  const declare = (service: ServiceAuthority) => {
    const known = services.get(service.fqdn);
    const ports = [...new Set([...((known?.ports ?? []) as number[]), service.port])];
    services.set(service.fqdn, { name: service.name, namespace: service.namespace, ports });
  };
  const entries: MeshFileProfile[] = [];
  for (const { target, profile } of profiles.values()) {
    declare(target);
    profile.dstOverrides.forEach((dst) => declare(serviceOf(dst.authority)));
    entries.push({
      service: target.name,
      namespace: target.namespace,
      routes: profile.routes.map((route) => ({
        name: route.name,
        condition: route.condition,
        isRetryable: route.isRetryable,
        ...(route.timeoutMs === undefined ? {} : { timeout: formatDuration(route.timeoutMs) }),
        responseClasses: route.responseClasses,
      })),
      retryBudget: {
        retryRatio: profile.retryBudget.retryRatio,
        minRetriesPerSecond: profile.retryBudget.minRetriesPerSecond,
        ttl: formatDuration(profile.retryBudget.ttlMs),
      },
      dstOverrides: profile.dstOverrides,
    });
  }
  const namespaces = [...new Set([...services.values()].map((service) => service.namespace ?? 'default'))].filter((name) => name !== 'default');
  return { apiVersion: 'weft.io/v1', namespaces, services: [...services.values()], profiles: entries };
}

describeDiscoverProfileContract('FileDiscoverProfile', async () => {
  const fixture = await MeshFileFixture.create();
  const port = new FileDiscoverProfile(fixture.source);
  const profiles = new Map<string, { target: ServiceAuthority; profile: ServiceProfile }>();
  const save = () => fixture.writeAndWait(meshText(profilesMesh(profiles)));
  return {
    port,
    setProfile: async (target, profile) => {
      if (target.kind !== 'service') throw new Error('the file harness writes profiles of services only');
      profiles.set(target.fqdn, { target, profile });
      await save();
    },
    deleteProfile: async (target) => {
      if (target.kind === 'service') profiles.delete(target.fqdn);
      await save();
    },
    close: async () => {
      port.close();
      await fixture.close();
    },
  };
});

const MESH = `apiVersion: weft.io/v1
namespaces: [shop]
services:
  - { name: books, namespace: shop, ports: [8080, { port: 5432, protocol: opaque }] }
  - { name: books-v2, namespace: shop, ports: [8080] }
profiles:
  - service: books
    namespace: shop
    routes:
      - name: GET /books/{id}
        condition: { method: get, pathRegex: '/books/[0-9]+' }
        isRetryable: true
        timeout: 250ms
        responseClasses:
          - condition: { status: { min: 500 } }
            isFailure: true
      - name: everything else
        condition: { any: [{ method: POST }, { not: { method: POST } }] }
    retryBudget: { retryRatio: 0.5 }
    dstOverrides:
      - { authority: "books:8080", weight: 90 }
      - { authority: books-v2:8080, weight: 10 }
`;

function authority(text: string): Authority {
  return unwrap(parseAuthority(text));
}

describe('FileDiscoverProfile', () => {
  let fixture: MeshFileFixture;
  afterEach(async () => fixture.close());

  function watch(text: string): UpdateRecorder<ServiceProfile> {
    const recorder = new UpdateRecorder<ServiceProfile>();
    new FileDiscoverProfile(fixture.source).watch(authority(text), recorder.listener);
    return recorder;
  }

  it('reads the file as the core profile: several fields of a condition must all hold, defaults filled in', async () => {
    fixture = await MeshFileFixture.create(MESH);
    expect(watch('books.shop:8080').updates).toEqual([
      {
        fullyQualifiedName: 'books.shop.svc.cluster.local',
        routes: [
          {
            name: 'GET /books/{id}',
            condition: { all: [{ method: 'get' }, { pathRegex: '/books/[0-9]+' }] },
            isRetryable: true,
            timeoutMs: 250,
            responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
          },
          {
            name: 'everything else',
            condition: { any: [{ method: 'POST' }, { not: { method: 'POST' } }] },
            isRetryable: false,
            responseClasses: [],
          },
        ],
        retryBudget: { retryRatio: 0.5, minRetriesPerSecond: 10, ttlMs: 10_000 },
        dstOverrides: [
          { authority: 'books.shop.svc.cluster.local:8080', weight: 90 },
          { authority: 'books-v2.shop.svc.cluster.local:8080', weight: 10 },
        ],
        opaqueProtocol: false,
      },
    ]);
  });

  it('marks the profile of an opaque port as opaque, configured or not', async () => {
    fixture = await MeshFileFixture.create(MESH);
    expect(watch('books.shop:5432').updates[0]?.opaqueProtocol).toBe(true);
    expect(watch('books.shop:5432').updates[0]?.routes).toHaveLength(2);
    expect(watch('books-v2.shop:8080').updates).toEqual([defaultServiceProfile('books-v2.shop.svc.cluster.local')]);
  });

  it('sends the new profile on an edit that changes it, and nothing on one that does not', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const books = watch('books.shop:8080');
    const v2 = watch('books-v2.shop:8080');
    await fixture.writeAndWait(MESH.replace('timeout: 250ms', 'timeout: 1s'));
    expect(books.updates.map((profile) => profile.routes[0]?.timeoutMs)).toEqual([250, 1_000]);
    expect(v2.updates).toHaveLength(1);
  });

  it('with external services, serves the profile of a service only named in the file to watches of its ports', async () => {
    const external = 'apiVersion: weft.io/v1\nnamespaces: [shop]\nprofiles:\n  - { service: web, namespace: shop, routes: [{ name: all, condition: { pathRegex: /.* }, timeout: 2s }] }\n';
    fixture = await MeshFileFixture.create(external, { externalServices: true });
    const web = watch('web.shop.svc.cluster.local:8080');
    expect(web.updates.map((profile) => [profile.fullyQualifiedName, profile.routes[0]?.timeoutMs])).toEqual([['web.shop.svc.cluster.local', 2_000]]);
    await fixture.writeAndWait(external.replace('2s', '3s'));
    expect(web.updates.map((profile) => profile.routes[0]?.timeoutMs)).toEqual([2_000, 3_000]);
    expect(fixture.log.errors).toEqual([]);
  });
});
