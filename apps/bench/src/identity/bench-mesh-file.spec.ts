import { loadMeshFile } from '@weft/adapter-file';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchMeshFile } from './bench-mesh-file.js';

describe('benchMeshFile', () => {
  it('is a mesh file the file adapter serves: the backend meshed behind the server proxy, with its TLS identity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-mesh-'));
    try {
      const file = join(dir, 'mesh.yaml');
      writeFileSync(file, benchMeshFile({ backendPort: 18080, serverInboundPort: 14243 }));
      const loaded = await loadMeshFile(file);
      if (!loaded.ok) throw new Error(loaded.error.map((error) => error.message).join('\n'));
      const endpoints = loaded.value.endpoints.get('bench.default.svc.cluster.local:80');
      expect(endpoints).toHaveLength(1);
      expect(endpoints?.[0]).toMatchObject({
        address: { ip: '127.0.0.1', port: 18080 },
        tlsIdentity: 'bench.default.serviceaccount.identity.weft.cluster.local',
        proxyInboundPort: 14243,
        protocolHint: 'http1',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("declares the TCP sink's service opaque, so the endpoint says so to the client proxy", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-mesh-'));
    try {
      const file = join(dir, 'mesh.yaml');
      writeFileSync(file, benchMeshFile({ backendPort: 18090, serverInboundPort: 14243, protocol: 'opaque' }));
      const loaded = await loadMeshFile(file);
      if (!loaded.ok) throw new Error(loaded.error.map((error) => error.message).join('\n'));
      expect(loaded.value.endpoints.get('bench.default.svc.cluster.local:80')?.[0]).toMatchObject({
        address: { ip: '127.0.0.1', port: 18090 },
        proxyInboundPort: 14243,
        protocolHint: 'opaque',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
