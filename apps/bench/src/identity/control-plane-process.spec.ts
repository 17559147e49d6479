import { describe, expect, it } from 'vitest';
import { controlPlaneArgs } from './control-plane-process.js';

describe('controlPlaneArgs', () => {
  it('serves on loopback with X.509 identity from the folder, on the memory orchestrator by default', () => {
    expect(controlPlaneArgs({ grpcPort: 4100, adminPort: 4101, identityDir: '/tmp/id' })).toEqual([
      '--grpc-addr',
      '127.0.0.1:4100',
      '--admin-addr',
      '127.0.0.1:4101',
      '--identity-dir',
      '/tmp/id',
    ]);
  });

  it('serves a mesh file with the file orchestrator when given one', () => {
    const args = controlPlaneArgs({ grpcPort: 4100, adminPort: 4101, identityDir: '/tmp/id', meshFile: '/tmp/mesh.yaml' });
    expect(args.slice(-4)).toEqual(['--orchestrator', 'file', '--mesh-file', '/tmp/mesh.yaml']);
  });
});
