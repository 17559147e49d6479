import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, DiscoverEndpoints, TokenValidator } from '@weft/core';
import { Container } from 'inversify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ControlMetrics } from './control-metrics.js';
import { meshFileModules, MeshFileStartError, readMeshFileAtStart } from './mesh-file-orchestrator.js';
import { OrchestratorReadiness } from './orchestrator-readiness.js';

const MESH = 'apiVersion: weft.io/v1\nservices: [{ name: web, ports: [8080], instances: [{ address: "10.0.0.1:8080" }] }]\n';

describe('the file orchestrator', () => {
  let dir: string;
  let path: string;
  let container: Container;
  let metrics: ControlMetrics;
  let logs: { event: string; fields: Record<string, unknown> }[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-mesh-orchestrator-'));
    path = join(dir, 'mesh.yaml');
    metrics = new ControlMetrics({ processMetrics: false });
    logs = [];
  });

  afterEach(async () => {
    await container.unbindAllAsync();
    await rm(dir, { recursive: true, force: true });
  });

  function load(omit: symbol[] = []): OrchestratorReadiness {
    container = new Container();
    const log = (event: string, fields: Record<string, unknown> = {}): void => void logs.push({ event, fields });
    container.load(...meshFileModules({ path, omit, metrics, log, watch: { debounceMs: 10, pollIntervalMs: 50, settleMs: 50 } }));
    return container.get<OrchestratorReadiness>(OrchestratorReadiness);
  }

  const series = async (name: string): Promise<string[]> =>
    (await metrics.metricsText()).split('\n').filter((line) => line.startsWith(name));

  it('is not ready until the file was loaded once, naming the first error meanwhile, then stays ready while the file is deleted', async () => {
    await writeFile(path, 'apiVersion: weft.io/v2\n');
    const readiness = load();
    expect(readiness.notReadyReason()).toMatch(new RegExp(`^mesh file ${path} is not loaded yet \\(${path}:1:\\d+ apiVersion: `));
    expect(await series('control_mesh_file_valid')).toEqual(['control_mesh_file_valid 0']);

    await writeFile(path, MESH);
    await vi.waitFor(() => expect(readiness.notReadyReason()).toBeUndefined(), { timeout: 2_000 });
    expect(await series('control_mesh_file_valid')).toEqual(['control_mesh_file_valid 1']);

    await unlink(path);
    await vi.waitFor(() => expect(logs.map((entry) => entry.event)).toContain('mesh-file-missing'), { timeout: 2_000 });
    expect(readiness.notReadyReason()).toBeUndefined();
    expect(await series('control_mesh_file_reloads_total')).toEqual([
      'control_mesh_file_reloads_total{result="applied"} 1',
      'control_mesh_file_reloads_total{result="invalid"} 0',
      'control_mesh_file_reloads_total{result="missing"} 1',
    ]);
    expect(await series('control_mesh_file_valid')).toEqual(['control_mesh_file_valid 0']);

    // Put back as it was: nothing new to apply, but the file on disk is the one served again.
    await writeFile(path, MESH);
    await vi.waitFor(async () => expect(await series('control_mesh_file_valid')).toEqual(['control_mesh_file_valid 1']), { timeout: 2_000 });
    expect(await series('control_mesh_file_reloads_total{result="applied"}')).toEqual(['control_mesh_file_reloads_total{result="applied"} 1']);
  });

  it('says a restart is needed when an edit changes the trust domain, which certificates keep from the start', async () => {
    await writeFile(path, MESH);
    load();
    await writeFile(path, `trustDomain: shop.example\n${MESH}`);
    await vi.waitFor(() => expect(logs.map((entry) => entry.event)).toContain('mesh-file-needs-restart'), { timeout: 2_000 });
    expect(logs.find((entry) => entry.event === 'mesh-file-needs-restart')?.fields['message']).toBe(
      'trustDomain changed from cluster.local to shop.example; certificates and request paths keep the values read at start until weft-control restarts',
    );
  });

  it('binds the discovery ports to the file and identity to memory, unless identity is bound elsewhere', async () => {
    await writeFile(path, MESH);
    load([TokenValidator, CertificateAuthority]);
    expect(container.isBound(DiscoverEndpoints)).toBe(true);
    expect(container.isBound(TokenValidator)).toBe(false);
    await container.unbindAllAsync();
    load();
    expect(container.isBound(CertificateAuthority)).toBe(true);
  });

  it('refuses a bad file at start with every error located', async () => {
    await writeFile(path, 'apiVersion: weft.io/v1\nservices: [{ name: Web, ports: [0] }]\n');
    const failure = await readMeshFileAtStart(path).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MeshFileStartError);
    expect((failure as MeshFileStartError).errors.length).toBeGreaterThan(0);
    expect((failure as MeshFileStartError).message).toMatch(new RegExp(`^mesh file ${path} has (an error|\\d+ errors); fix it and start again:\\n  ${path}:2:`));
  });
});
