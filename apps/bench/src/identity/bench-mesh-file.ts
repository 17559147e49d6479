// benchMeshFile: the mesh.yaml the control plane serves in the two-hop runs: the backend as one meshed instance behind its proxy.
import { BENCH_TRUST_DOMAIN } from './mesh-identity-material.js';
import { BENCH_SERVICE_PORT } from './identity-proxy.js';

export interface BenchMeshPorts {
  /** The backend's port on 127.0.0.1 (nginx's HTTP/1.1 port, or the TCP sink's): the endpoint's address. */
  readonly backendPort: number;
  /** The server proxy's inbound port: where client proxies send mTLS. */
  readonly serverInboundPort: number;
  /** How the service's port is declared: `http1` for nginx (the default), `opaque` for the TCP sink. */
  readonly protocol?: 'http1' | 'opaque';
}

/**
 * Service `bench` in namespace `default` (bench.default.svc.cluster.local:80, HTTP/1.1 or opaque) with one instance at the
 * backend's address, meshed: its endpoint carries the TLS identity of service account `bench` and the server
 * proxy's inbound port, so a client proxy speaks mTLS to that proxy rather than plaintext to the backend.
 */
export function benchMeshFile(ports: BenchMeshPorts): string {
  return `# Written by apps/bench for a two-hop mTLS run.
apiVersion: weft.io/v1
kind: Mesh
trustDomain: ${BENCH_TRUST_DOMAIN}
services:
  - name: bench
    namespace: default
    serviceAccount: bench
    ports:
      - { port: ${BENCH_SERVICE_PORT}, name: ${ports.protocol === 'opaque' ? 'tcp' : 'http'}, protocol: ${ports.protocol ?? 'http1'} }
    instances:
      - name: backend
        address: 127.0.0.1:${ports.backendPort}
        proxy: { inboundPort: ${ports.serverInboundPort} }
`;
}
