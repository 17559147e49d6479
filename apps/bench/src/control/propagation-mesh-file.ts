// propagationMeshFile: the mesh.yaml of each step of the endpoint-propagation run, whose moving instance marks which change a subscriber holds.
import { BENCH_TRUST_DOMAIN } from '../identity/mesh-identity-material.js';

/** The watched service port, as the subscribers ask the Destination service for it. */
export const PROPAGATION_AUTHORITY = `propagation.default.svc.${BENCH_TRUST_DOMAIN}:80`;
/** Other services in the file, two instances each, so each edit is parsed and checked as part of a mesh rather than alone. */
export const PROPAGATION_OTHER_SERVICES = 10;
/** The instance that never moves; no process listens on these addresses and nothing connects to them. */
export const STEADY_PORT = 40_000;
const MARKER_BASE_PORT = 40_001;
/** Changes one run may make; keeps every marker port below 65536. */
export const MAX_PROPAGATION_CHANGES = 1_000;

/** The port of change `change`'s moving instance: 127.0.0.1:40001 for the initial file (change 0), and so on. */
export function markerPort(change: number): number {
  if (!Number.isInteger(change) || change < 0 || change >= MAX_PROPAGATION_CHANGES) {
    throw new RangeError(`change ${change} is not a whole number from 0 to ${MAX_PROPAGATION_CHANGES - 1}`);
  }
  return MARKER_BASE_PORT + change;
}

/** The change whose moving instance listens on `port`, or undefined for any other port (the steady instance's). */
export function changeOfMarkerPort(port: number): number | undefined {
  const change = port - MARKER_BASE_PORT;
  return Number.isInteger(change) && change >= 0 && change < MAX_PROPAGATION_CHANGES ? change : undefined;
}

function otherServices(): string {
  return Array.from(
    { length: PROPAGATION_OTHER_SERVICES },
    (_, index) => `  - name: other-${index}
    namespace: default
    ports: [{ port: 8080, name: http, protocol: http1 }]
    instances:
      - { name: other-${index}-a, address: 127.0.0.1:${41_000 + 2 * index} }
      - { name: other-${index}-b, address: 127.0.0.1:${41_001 + 2 * index} }
`,
  ).join('');
}

/**
 * The file after `change` changes: service `propagation` (port 80, HTTP/1.1) with the steady instance and one moving
 * instance at markerPort(change). Going from change k-1 to k removes one endpoint and adds another, as a rolling
 * restart does; a subscriber holds change k once its endpoints include markerPort(k).
 */
export function propagationMeshFile(change: number): string {
  return `# Written by apps/bench for the endpoint-propagation run: change ${change}.
apiVersion: weft.io/v1
kind: Mesh
trustDomain: ${BENCH_TRUST_DOMAIN}
services:
  - name: propagation
    namespace: default
    ports:
      - { port: 80, name: http, protocol: http1 }
    instances:
      - { name: steady, address: 127.0.0.1:${STEADY_PORT} }
      - { name: moving-${change}, address: 127.0.0.1:${markerPort(change)} }
${otherServices()}`;
}
