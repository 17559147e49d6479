import { describe, expect, it } from 'vitest';
import { meshFileReloads } from './mesh-file-reloads.js';

const metrics = `# HELP control_mesh_file_reloads_total New versions of the mesh file seen after start.
# TYPE control_mesh_file_reloads_total counter
control_mesh_file_reloads_total{result="applied"} 22
control_mesh_file_reloads_total{result="invalid"} 1
control_mesh_file_reloads_total{result="missing"} 0
control_grpc_streams{service="destination",rpc="Get"} 100
`;

describe('meshFileReloads', () => {
  it('reads the count of one result', () => {
    expect(meshFileReloads(metrics, 'applied')).toBe(22);
    expect(meshFileReloads(metrics, 'invalid')).toBe(1);
    expect(meshFileReloads(metrics, 'missing')).toBe(0);
  });

  it('is undefined when the control plane does not watch a mesh file', () => {
    expect(meshFileReloads('control_grpc_streams{service="destination",rpc="Get"} 0\n', 'applied')).toBeUndefined();
  });
});
