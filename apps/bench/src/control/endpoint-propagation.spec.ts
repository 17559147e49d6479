import { Server, ServerCredentials } from '@grpc/grpc-js';
import { FileDiscoverEndpoints, FileDiscoverProfile, FileMeshSource } from '@weft/adapter-file';
import { GrpcDestinationService } from '@weft/adapter-grpc';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { measureEndpointPropagation, type PropagationRunSettings } from './endpoint-propagation.js';
import { propagationMeshFile } from './propagation-mesh-file.js';
import { MESH_FILE_WATCH_DEFAULTS } from './propagation-settings.js';

/** The control plane's Destination service over the file adapter, in this process, on an ephemeral loopback port. */
async function servedMeshFile(text: string): Promise<{ address: string; meshFile: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-propagation-'));
  const meshFile = join(dir, 'mesh.yaml');
  writeFileSync(meshFile, text);
  const source = new FileMeshSource({ path: meshFile, log: { info: () => undefined, error: () => undefined } });
  source.start();
  const destination = new GrpcDestinationService({ endpoints: new FileDiscoverEndpoints(source), profiles: new FileDiscoverProfile(source) });
  const server = new Server();
  server.addService(destination.definition, destination.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, value) => (error ? reject(error) : resolve(value))),
  );
  const stop = async (): Promise<void> => {
    destination.close();
    source.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  };
  return { address: `127.0.0.1:${port}`, meshFile, stop };
}

const settings = (address: string, meshFile: string): PropagationRunSettings => ({
  address,
  meshFile,
  subscribers: 4,
  changes: 2,
  warmupChanges: 1,
  spacingMs: 400,
  phaseSpreadMs: 200,
  firstMessageTimeoutMs: 5_000,
  changeTimeoutMs: 2_000,
});

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('measureEndpointPropagation', () => {
  it('times every change reaching every subscriber, each after the watch debounce, and leaves the last change on disk', { timeout: 20_000 }, async () => {
    const served = await servedMeshFile(propagationMeshFile(0));
    stop = served.stop;
    const report = await measureEndpointPropagation(settings(served.address, served.meshFile));
    expect(report).toMatchObject({ subscribers: 4, warmupChanges: 1, spacingMs: 400, changeTimeoutMs: 2_000 });
    expect(report.delaysMs).toHaveLength(2);
    for (const change of report.delaysMs) {
      expect(change).toHaveLength(4);
      for (const delay of change) {
        expect(delay).not.toBeNull();
        expect(delay).toBeGreaterThanOrEqual(MESH_FILE_WATCH_DEFAULTS.debounceMs - 5);
        expect(delay).toBeLessThan(2_000);
      }
    }
    expect(report.writeMs).toHaveLength(2);
    expect(readFileSync(served.meshFile, 'utf8')).toBe(propagationMeshFile(3));
  });

  it('fails, naming the service, when the control plane does not know it', { timeout: 20_000 }, async () => {
    const served = await servedMeshFile('apiVersion: weft.io/v1\nservices: []\n');
    stop = served.stop;
    await expect(measureEndpointPropagation(settings(served.address, served.meshFile))).rejects.toThrow(
      /^subscriber \d got doesNotExist first: the control plane does not serve propagation\.default\.svc\.cluster\.local:80 from the mesh file$/,
    );
  });
});
