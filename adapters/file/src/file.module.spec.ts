import { writeFile } from 'node:fs/promises';
import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile, type EndpointUpdate, parseAuthority, unwrap } from '@weft/core';
import { Container } from 'inversify';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiscoverEndpoints } from './file-discover-endpoints.js';
import { FileDiscoverInboundPolicy } from './file-discover-inbound-policy.js';
import { FileDiscoverProfile } from './file-discover-profile.js';
import { FileMeshSource } from './file-mesh-source.js';
import { fileModule } from './file.module.js';
import { MeshFileFixture, RecordingLog, sleep } from './mesh-file-fixture.spec-helper.js';

const MESH = 'apiVersion: weft.io/v1\nservices: [{ name: web, ports: [8080], instances: [{ address: "10.0.0.1:8080" }] }]\n';

describe('fileModule', () => {
  let fixture: MeshFileFixture;
  afterEach(async () => fixture.close());

  it('binds the three discovery ports to adapters over one source that reads the file when first resolved', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const container = new Container();
    const log = new RecordingLog();
    container.load(fileModule({ path: fixture.path, log, debounceMs: 10, pollIntervalMs: 50 }));
    const endpoints = container.get<DiscoverEndpoints>(DiscoverEndpoints);
    expect(endpoints).toBe(container.get(FileDiscoverEndpoints));
    expect(container.get<DiscoverProfile>(DiscoverProfile)).toBe(container.get(FileDiscoverProfile));
    expect(container.get<DiscoverInboundPolicy>(DiscoverInboundPolicy)).toBe(container.get(FileDiscoverInboundPolicy));
    const updates: EndpointUpdate[] = [];
    endpoints.watch(unwrap(parseAuthority('web:8080')), (update) => updates.push(update));
    expect(updates[0]?.kind).toBe('reset');
    expect(log.infos).toEqual([`loaded mesh file ${fixture.path}: 1 service, 1 instance, 0 profiles, 0 servers`]);
  });

  it('stops watching the file once the container unbinds it', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const container = new Container();
    container.load(fileModule({ path: fixture.path, log: new RecordingLog(), debounceMs: 10, pollIntervalMs: 50 }));
    const source = container.get(FileMeshSource);
    container.unbindAll();
    await writeFile(fixture.path, MESH.replace('10.0.0.1', '10.0.0.2'));
    await sleep(200);
    expect(source.current().instances.map((instance) => instance.ip)).toEqual(['10.0.0.1']);
  });
});
