import { loadMeshFile } from '@weft/adapter-file';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changeOfMarkerPort, markerPort, PROPAGATION_AUTHORITY, PROPAGATION_OTHER_SERVICES, propagationMeshFile, STEADY_PORT } from './propagation-mesh-file.js';

async function endpointsOf(text: string): Promise<{ ip: string; port: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-propagation-'));
  try {
    const file = join(dir, 'mesh.yaml');
    writeFileSync(file, text);
    const loaded = await loadMeshFile(file);
    if (!loaded.ok) throw new Error(loaded.error.map((error) => error.message).join('\n'));
    expect(loaded.value.services).toHaveLength(1 + PROPAGATION_OTHER_SERVICES);
    return (loaded.value.endpoints.get(PROPAGATION_AUTHORITY) ?? []).map((endpoint) => endpoint.address);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('propagationMeshFile', () => {
  it('is a mesh file the file adapter serves: the watched service holds the steady instance and the moving one of the change', async () => {
    expect(await endpointsOf(propagationMeshFile(0))).toEqual([
      { ip: '127.0.0.1', port: STEADY_PORT },
      { ip: '127.0.0.1', port: markerPort(0) },
    ]);
    expect(await endpointsOf(propagationMeshFile(7))).toEqual([
      { ip: '127.0.0.1', port: STEADY_PORT },
      { ip: '127.0.0.1', port: markerPort(7) },
    ]);
  });

  it('gives each change its own marker port, and reads the change back from it', () => {
    expect(markerPort(0)).not.toBe(markerPort(1));
    expect(changeOfMarkerPort(markerPort(0))).toBe(0);
    expect(changeOfMarkerPort(markerPort(21))).toBe(21);
    expect(changeOfMarkerPort(STEADY_PORT)).toBeUndefined();
    expect(() => markerPort(1_000)).toThrow(RangeError);
  });
});
