import {
  type Authority,
  type Endpoint,
  type EndpointUpdate,
  formatAuthority,
  formatSocketAddress,
  parseAuthority,
  unwrap,
} from '@weft/core';
import { describeDiscoverEndpointsContract, UpdateRecorder } from '@weft/fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiscoverEndpoints } from './file-discover-endpoints.js';
import type { MeshFile, MeshFileService } from './mesh-file.js';
import { MeshFileFixture, meshText } from './mesh-file-fixture.spec-helper.js';

/** Writes the services the contract sets as unmeshed instances at their addresses, with their weights and labels. */
function endpointsMesh(services: ReadonlyMap<string, { target: Authority; endpoints: readonly Endpoint[] }>): MeshFile {
  const namespaces = new Set<string>();
  const entries: MeshFileService[] = [];
  for (const { target, endpoints } of services.values()) {
    if (target.kind !== 'service') throw new Error(`the file harness writes services only, not ${formatAuthority(target)}`);
    namespaces.add(target.namespace);
    entries.push({
      name: target.name,
      namespace: target.namespace,
      ports: [target.port],
      instances: endpoints.map((endpoint) => {
        if (endpoint.tlsIdentity !== undefined || endpoint.protocolHint !== undefined || endpoint.proxyInboundPort !== undefined) {
          throw new Error('the file harness writes unmeshed endpoints without hints only');
        }
        return { address: formatSocketAddress(endpoint.address), weight: endpoint.weight, metricLabels: endpoint.labels, meshed: false };
      }),
    });
  }
  return { apiVersion: 'weft.io/v1', namespaces: [...namespaces].filter((name) => name !== 'default'), services: entries };
}

describeDiscoverEndpointsContract('FileDiscoverEndpoints', async () => {
  const fixture = await MeshFileFixture.create();
  const port = new FileDiscoverEndpoints(fixture.source);
  const services = new Map<string, { target: Authority; endpoints: readonly Endpoint[] }>();
  const save = () => fixture.writeAndWait(meshText(endpointsMesh(services)));
  return {
    port,
    setEndpoints: async (target, endpoints) => {
      services.set(formatAuthority(target), { target, endpoints });
      await save();
    },
    deleteService: async (target) => {
      services.delete(formatAuthority(target));
      await save();
    },
    close: async () => {
      port.close();
      await fixture.close();
    },
  };
});

const MESH = `apiVersion: weft.io/v1
namespaces: [demo]
services:
  - name: api
    namespace: demo
    ports:
      - { port: 8080, name: http, protocol: http1 }
      - { port: 9090, name: grpc, protocol: grpc }
    serviceAccount: api-sa
    instances:
      - command: [node, api.js]
        port: 7001
        ports: { grpc: 7101 }
        proxy: { inboundPort: 4301 }
      - address: 10.0.0.7:8080
        meshed: false
        weight: 5
  - name: db
    namespace: demo
    ports: [{ port: 5432, protocol: opaque }]
    instances:
      - address: 10.0.0.9:5432
`;

function authority(text: string): Authority {
  return unwrap(parseAuthority(text));
}

describe('FileDiscoverEndpoints', () => {
  let fixture: MeshFileFixture;
  afterEach(async () => fixture.close());

  function watch(text: string): UpdateRecorder<EndpointUpdate> {
    const recorder = new UpdateRecorder<EndpointUpdate>();
    new FileDiscoverEndpoints(fixture.source).watch(authority(text), recorder.listener);
    return recorder;
  }

  it('gives meshed instances their identity, proxy inbound port and protocol hint, per service port', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const http = watch('api.demo:8080');
    const grpc = watch('api.demo.svc.cluster.local:9090');
    const db = watch('db.demo:5432');
    expect(http.updates).toEqual([
      {
        kind: 'reset',
        endpoints: [
          {
            address: { ip: '127.0.0.1', port: 7001 },
            weight: 10_000,
            labels: { namespace: 'demo', service: 'api', pod: 'api-0', serviceaccount: 'api-sa' },
            tlsIdentity: 'api-sa.demo.serviceaccount.identity.weft.cluster.local',
            protocolHint: 'http1',
            proxyInboundPort: 4301,
          },
          {
            address: { ip: '10.0.0.7', port: 8080 },
            weight: 5,
            labels: { namespace: 'demo', service: 'api', pod: 'api-1' },
            protocolHint: 'http1',
          },
        ],
      },
    ]);
    const grpcFirst = grpc.updates[0];
    const grpcEndpoints = grpcFirst?.kind === 'reset' ? grpcFirst.endpoints : [];
    expect(grpcEndpoints.map((endpoint) => [formatSocketAddress(endpoint.address), endpoint.protocolHint])).toEqual([
      ['127.0.0.1:7101', 'h2'],
      ['10.0.0.7:9090', 'h2'],
    ]);
    const dbFirst = db.updates[0];
    expect(dbFirst?.kind === 'reset' ? dbFirst.endpoints[0]?.protocolHint : undefined).toBe('opaque');
  });

  it('says a service or a port the file does not declare does not exist', async () => {
    fixture = await MeshFileFixture.create(MESH);
    expect(watch('api.demo:8081').updates).toEqual([{ kind: 'doesNotExist' }]);
    expect(watch('web.demo:8080').updates).toEqual([{ kind: 'doesNotExist' }]);
    expect(watch('api.other:8080').updates).toEqual([{ kind: 'doesNotExist' }]);
    expect(watch('10.0.0.7:8080').updates).toEqual([{ kind: 'doesNotExist' }]);
  });

  it('sends an edit that adds one instance and removes another as one remove and one add', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const recorder = watch('api.demo:8080');
    await fixture.writeAndWait(MESH.replace('address: 10.0.0.7:8080', 'address: 10.0.0.8:8080'));
    expect(recorder.updates.slice(1)).toEqual([
      { kind: 'remove', addresses: [{ ip: '10.0.0.7', port: 8080 }] },
      {
        kind: 'add',
        endpoints: [{ address: { ip: '10.0.0.8', port: 8080 }, weight: 5, labels: { namespace: 'demo', service: 'api', pod: 'api-1' }, protocolHint: 'http1' }],
      },
    ]);
  });

  it('sends nothing when an edit leaves the service as it was', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const recorder = watch('api.demo:8080');
    await fixture.writeAndWait(MESH.replace('address: 10.0.0.9:5432', 'address: 10.0.0.10:5432'));
    expect(recorder.updates).toHaveLength(1);
  });

  it('uses the cluster domain the file names', async () => {
    fixture = await MeshFileFixture.create(`apiVersion: weft.io/v1\nclusterDomain: mesh.internal\nservices: [{ name: web, ports: [80], instances: [{ address: 10.0.0.1:80 }] }]\n`);
    expect(watch('web.default.svc.mesh.internal:80').updates[0]?.kind).toBe('reset');
    expect(watch('web.default.svc.cluster.local:80').updates[0]?.kind).toBe('doesNotExist');
  });
});
