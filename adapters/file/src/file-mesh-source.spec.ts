import { readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EndpointUpdate, parseAuthority, unwrap } from '@weft/core';
import { UpdateRecorder } from '@weft/fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiscoverEndpoints } from './file-discover-endpoints.js';
import { FileMeshSource } from './file-mesh-source.js';
import { MeshFileFixture, RecordingLog, sleep, until } from './mesh-file-fixture.spec-helper.js';

const MESH = `apiVersion: weft.io/v1
namespaces: [demo]
services:
  - name: api
    namespace: demo
    ports: [8080]
    instances:
      - address: 10.0.0.1:8080
`;

const WITH_SECOND_INSTANCE = `${MESH}      - address: 10.0.0.2:8080\n`;

// Line 6, column 13 is the 70000: services[0].ports[0].
const BROKEN = MESH.replace('ports: [8080]', 'ports: [70000]');

const api = unwrap(parseAuthority('api.demo:8080'));

function addressesHeld(recorder: UpdateRecorder<EndpointUpdate>): string[] {
  const held = new Map<string, true>();
  for (const update of recorder.updates) {
    if (update.kind === 'reset' || update.kind === 'doesNotExist') held.clear();
    if (update.kind === 'reset' || update.kind === 'add') update.endpoints.forEach((endpoint) => held.set(endpoint.address.ip, true));
    if (update.kind === 'remove') update.addresses.forEach((address) => held.delete(address.ip));
  }
  return [...held.keys()].sort();
}

describe('FileMeshSource', () => {
  let fixture: MeshFileFixture;
  afterEach(async () => fixture.close());

  function watchApi(): UpdateRecorder<EndpointUpdate> {
    const recorder = new UpdateRecorder<EndpointUpdate>();
    new FileDiscoverEndpoints(fixture.source).watch(api, recorder.listener);
    return recorder;
  }

  it('applies a valid edit within 2 s with its default timings', async () => {
    fixture = await MeshFileFixture.create(MESH, 'default timings');
    const recorder = watchApi();
    const editedAt = Date.now();
    await fixture.write(WITH_SECOND_INSTANCE);
    await until(() => addressesHeld(recorder).length === 2, 2_000, () => `held ${addressesHeld(recorder).join(', ')}`);
    expect(Date.now() - editedAt).toBeLessThan(2_000);
    expect(addressesHeld(recorder)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(fixture.log.infos.at(-1)).toBe(`applied mesh file ${fixture.path}: 1 service, 2 instances, 0 profiles, 0 servers`);
  });

  it('keeps the last good configuration on a broken edit, and logs one error naming the line, column and field', async () => {
    fixture = await MeshFileFixture.create(MESH, { pollIntervalMs: 50 });
    const recorder = watchApi();
    await fixture.write(BROKEN);
    await until(() => fixture.source.status().state === 'invalid', 3_000, () => fixture.source.status().state);
    // Polls, checks and touches of the same bad version log nothing more.
    await fixture.source.check();
    await utimes(fixture.path, new Date(), new Date());
    await sleep(400);
    expect(fixture.log.errors).toEqual([
      `mesh file ${fixture.path} has an error; keeping the configuration applied at ${new Date(fixture.source.status().appliedAtMs ?? 0).toISOString()}:\n` +
        `  ${fixture.path}:6:13 services[0].ports[0]: is 70000; the largest allowed is 65535`,
    ]);
    expect(fixture.source.status().errors.map((error) => [error.line, error.column, error.field, error.input])).toEqual([[6, 13, 'services[0].ports[0]', '70000']]);
    expect(recorder.updates).toHaveLength(1);
    expect(addressesHeld(watchApi())).toEqual(['10.0.0.1']);
    // A second, different bad version is reported once too; the fix is applied.
    await fixture.write(BROKEN.replace('10.0.0.1', '10.0.0.300'));
    await until(() => fixture.log.errors.length === 2, 3_000, () => fixture.log.errors.join('\n'));
    await fixture.writeAndWait(WITH_SECOND_INSTANCE);
    expect(addressesHeld(recorder)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(fixture.log.errors).toHaveLength(2);
  });

  it('applies a file replaced by rename, as editors save, from its change events alone', async () => {
    fixture = await MeshFileFixture.create(MESH, { pollIntervalMs: 60_000 });
    const recorder = watchApi();
    const temporary = join(fixture.dir, '.mesh.yaml.swp');
    await writeFile(temporary, WITH_SECOND_INSTANCE);
    await rename(temporary, fixture.path);
    await until(() => addressesHeld(recorder).length === 2, 2_000, () => `held ${addressesHeld(recorder).join(', ')}`);
    expect(fixture.log.errors).toEqual([]);
  });

  it('finds edits by polling when change events are turned off', async () => {
    fixture = await MeshFileFixture.create(MESH, { watch: false, pollIntervalMs: 100 });
    const recorder = watchApi();
    await fixture.write(WITH_SECOND_INSTANCE);
    await until(() => addressesHeld(recorder).length === 2, 2_000, () => `held ${addressesHeld(recorder).join(', ')}`);
  });

  it('keeps the last good configuration when the file is deleted, says so once, and applies it when it is back', async () => {
    fixture = await MeshFileFixture.create(MESH, { pollIntervalMs: 50 });
    const recorder = watchApi();
    await unlink(fixture.path);
    await until(() => fixture.source.status().state === 'missing', 3_000, () => fixture.source.status().state);
    await sleep(300);
    expect(fixture.log.errors).toHaveLength(1);
    expect(fixture.log.errors[0]).toMatch(new RegExp(`^mesh file ${fixture.path} was deleted or renamed away; keeping the configuration applied at .* until it is back$`));
    expect(recorder.updates).toHaveLength(1);
    expect(addressesHeld(watchApi())).toEqual(['10.0.0.1']);
    await fixture.writeAndWait(WITH_SECOND_INSTANCE);
    expect(addressesHeld(recorder)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('says the file is back when it returns unchanged', async () => {
    fixture = await MeshFileFixture.create(MESH, { pollIntervalMs: 50 });
    await unlink(fixture.path);
    await until(() => fixture.source.status().state === 'missing', 3_000, () => fixture.source.status().state);
    await writeFile(fixture.path, MESH);
    await until(() => fixture.source.status().state === 'loaded', 3_000, () => fixture.source.status().state);
    expect(fixture.log.infos.at(-1)).toMatch(/is back, as it was when applied at/);
  });

  it('does not report a file caught half-written, and applies it once complete', async () => {
    fixture = await MeshFileFixture.create(MESH, { debounceMs: 5, settleMs: 1_000 });
    const recorder = watchApi();
    const complete = WITH_SECOND_INSTANCE;
    await fixture.write(complete.slice(0, complete.indexOf('ports:') + 9));
    await fixture.source.check();
    expect(fixture.source.status().state).toBe('loaded');
    await fixture.write(complete);
    await until(() => addressesHeld(recorder).length === 2, 2_000, () => `held ${addressesHeld(recorder).join(', ')}`);
    // Past the moment the half-written version would have been reported.
    await sleep(1_100);
    expect(fixture.log.errors).toEqual([]);
  });

  it('starts empty from a broken file, logs it once, and applies the fix', async () => {
    fixture = await MeshFileFixture.create(BROKEN);
    expect(fixture.source.current().services).toEqual([]);
    expect(fixture.log.errors).toHaveLength(1);
    expect(fixture.log.errors[0]).toContain('no configuration was loaded yet, so the mesh stays empty');
    const recorder = watchApi();
    expect(recorder.updates).toEqual([{ kind: 'doesNotExist' }]);
    await fixture.writeAndWait(MESH);
    expect(recorder.updates.at(-1)?.kind).toBe('reset');
  });

  it('starts empty when the file does not exist yet, and applies it once created', async () => {
    fixture = await MeshFileFixture.create(null);
    expect(fixture.source.status().state).toBe('missing');
    expect(fixture.log.errors).toEqual([`mesh file ${fixture.path} does not exist; no configuration was loaded yet, so the mesh stays empty until it is created`]);
    await fixture.writeAndWait(MESH);
    expect(fixture.source.current().services.map((service) => service.fqdn)).toEqual(['api.demo.svc.cluster.local']);
  });

  it('keeps serving the other listeners, and logs, when one listener throws', async () => {
    fixture = await MeshFileFixture.create(MESH);
    fixture.source.onChange(() => {
      throw new Error('listener bug');
    });
    const recorder = watchApi();
    await fixture.writeAndWait(WITH_SECOND_INSTANCE);
    expect(addressesHeld(recorder)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(fixture.log.errors.join('\n')).toContain('listener bug');
  });

  it('reads nothing more after close', async () => {
    const log = new RecordingLog();
    fixture = await MeshFileFixture.create(MESH);
    const source = new FileMeshSource({ path: fixture.path, debounceMs: 5, pollIntervalMs: 20, log });
    source.start();
    source.close();
    await writeFile(fixture.path, WITH_SECOND_INSTANCE);
    await source.check();
    await sleep(100);
    expect(source.current().instances).toHaveLength(1);
    expect(await readFile(fixture.path, 'utf8')).toBe(WITH_SECOND_INSTANCE);
  });

  it('with externalServices, applies Servers over services the file does not declare, and still refuses other errors', async () => {
    const policies = 'apiVersion: weft.io/v1\nnamespaces: [shop]\npolicies:\n  servers:\n    - { name: web-http, namespace: shop, service: web, port: http }\n';
    fixture = await MeshFileFixture.create(policies, { externalServices: true });
    expect(fixture.source.status().state).toBe('loaded');
    expect(fixture.source.current().policy.servers.map((server) => server.name)).toEqual(['web-http']);
    await fixture.write(policies.replace('namespace: shop, service', 'namespace: shpo, service'));
    await until(() => fixture.source.status().state === 'invalid', 3_000, () => fixture.source.status().state);
    expect(fixture.source.status().errors.map(String)).toEqual([
      `${fixture.path}:5:36 policies.servers[0].namespace: namespace "shpo" is not declared (did you mean "shop"?); add it to namespaces at the top of the file`,
    ]);
    expect(fixture.source.current().policy.servers.map((server) => server.name)).toEqual(['web-http']);
    const plain = await MeshFileFixture.create(policies);
    try {
      expect(plain.source.status().state).toBe('invalid');
    } finally {
      await plain.close();
    }
  });
});
