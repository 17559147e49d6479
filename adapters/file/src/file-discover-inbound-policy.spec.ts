import {
  allNetworks,
  defaultInboundServerPolicy,
  formatCidr,
  formatIdentityPattern,
  type InboundAuthorization,
  type InboundServerPolicy,
  parseCidr,
  type PolicyWorkloadRef,
  unwrap,
} from '@weft/core';
import { describeDiscoverInboundPolicyContract, UpdateRecorder } from '@weft/fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDiscoverInboundPolicy } from './file-discover-inbound-policy.js';
import type {
  MeshFile,
  MeshFileAuthenticationRef,
  MeshFileAuthorizationPolicy,
  MeshFileMeshTlsAuthentication,
  MeshFileNetworkAuthentication,
  MeshFileServer,
  MeshFileService,
} from './mesh-file.js';
import { MeshFileFixture, meshText } from './mesh-file-fixture.spec-helper.js';

interface PortPolicy {
  readonly workload: PolicyWorkloadRef;
  readonly port: number;
  readonly policy: InboundServerPolicy;
}

/**
 * Writes the policies the contract sets as file resources: each workload as an instance, each policy as a Server
 * selecting that instance's port, each authorization as an AuthorizationPolicy (with the MeshTLS and Network
 * authentications it requires) targeting every Server that carries it.
 */
function policiesMesh(workloads: readonly PolicyWorkloadRef[], policies: readonly PortPolicy[]): MeshFile {
  const services: MeshFileService[] = workloads.map((workload) => {
    const ports = [...new Set([8080, ...policies.filter((entry) => sameWorkload(entry.workload, workload)).map((entry) => entry.port)])];
    return {
      name: `svc-${workload.name}`,
      namespace: workload.namespace,
      ports,
      instances: [{ name: workload.name, address: `127.0.0.1:${ports[0]}`, meshed: false }],
    };
  });
  const servers: MeshFileServer[] = [];
  const authorizations = new Map<string, { namespace: string; authorization: InboundAuthorization; servers: string[] }>();
  for (const { workload, port, policy } of policies) {
    if (policy.server.kind !== 'Server' || policy.httpRoutes.length > 0 || policy.audit) {
      throw new Error('the file harness writes Server policies without routes or audit only');
    }
    servers.push({
      name: policy.server.name,
      namespace: workload.namespace,
      port,
      selector: { 'weft.io/instance': workload.name },
      proxyProtocol: policy.protocol,
    });
    for (const authorization of policy.authorizations) {
      if (authorization.kind !== 'AuthorizationPolicy') throw new Error('the file harness writes AuthorizationPolicy authorizations only');
      const key = `${workload.namespace}/${authorization.name}`;
      const known = authorizations.get(key);
      if (known && JSON.stringify(known.authorization) !== JSON.stringify(authorization)) {
        throw new Error(`the file harness cannot write two different authorizations named ${key}`);
      }
      authorizations.set(key, { namespace: workload.namespace, authorization, servers: [...(known?.servers ?? []), policy.server.name] });
    }
  }
  const meshTLSAuthentications: MeshFileMeshTlsAuthentication[] = [];
  const networkAuthentications: MeshFileNetworkAuthentication[] = [];
  const authorizationPolicies: MeshFileAuthorizationPolicy[] = [];
  for (const { namespace, authorization, servers: targets } of authorizations.values()) {
    const required: MeshFileAuthenticationRef[] = [];
    if (authorization.authentication.kind === 'meshTLS') {
      const name = `${authorization.name}-identities`;
      meshTLSAuthentications.push({ name, namespace, identities: authorization.authentication.identities.map(formatIdentityPattern) });
      required.push({ meshTLS: name });
    }
    if (JSON.stringify(authorization.networks) !== JSON.stringify(allNetworks)) {
      const name = `${authorization.name}-networks`;
      const networks = authorization.networks.map((network) => ({ cidr: formatCidr(network.cidr), except: network.except.map(formatCidr) }));
      networkAuthentications.push({ name, namespace, networks });
      required.push({ network: name });
    }
    authorizationPolicies.push({ name: authorization.name, namespace, target: { server: targets }, requiredAuthentications: required });
  }
  const namespaces = [...new Set(workloads.map((workload) => workload.namespace))].filter((name) => name !== 'default');
  return {
    apiVersion: 'weft.io/v1',
    namespaces,
    services,
    policies: { servers, authorizationPolicies, meshTLSAuthentications, networkAuthentications },
  };
}

function sameWorkload(a: PolicyWorkloadRef, b: PolicyWorkloadRef): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

describeDiscoverInboundPolicyContract('FileDiscoverInboundPolicy', async () => {
  const fixture = await MeshFileFixture.create();
  const port = new FileDiscoverInboundPolicy(fixture.source);
  const workloads: PolicyWorkloadRef[] = [];
  const policies: PortPolicy[] = [];
  const save = () => fixture.writeAndWait(meshText(policiesMesh(workloads, policies)));
  const forget = (workload: PolicyWorkloadRef, onPort: number) => {
    const index = policies.findIndex((entry) => sameWorkload(entry.workload, workload) && entry.port === onPort);
    if (index >= 0) policies.splice(index, 1);
  };
  return {
    port,
    setPolicy: async (workload, onPort, policy) => {
      if (!workloads.some((known) => sameWorkload(known, workload))) workloads.push(workload);
      forget(workload, onPort);
      policies.push({ workload, port: onPort, policy });
      await save();
    },
    clearPolicy: async (workload, onPort) => {
      forget(workload, onPort);
      await save();
    },
    defaultPolicy: (onPort) => defaultInboundServerPolicy(onPort, 'all-unauthenticated'),
    close: async () => {
      port.close();
      await fixture.close();
    },
  };
});

const MESH = `apiVersion: weft.io/v1
namespaces:
  - shop
  - { name: vault, defaultInboundPolicy: deny }
services:
  - name: web
    namespace: shop
    ports: [{ port: 8080, name: http }]
    instances:
      - { command: [node, web.js], port: 7001 }
      - { command: [node, web.js], port: 7002, serviceAccount: web-admin }
  - name: secrets
    namespace: vault
    ports: [9000]
    instances: [{ address: 10.1.0.1:9000 }]
policies:
  clusterNetworks: [10.0.0.0/8]
  servers:
    - { name: web-http, namespace: shop, service: web, port: http, proxyProtocol: HTTP/1, accessPolicy: cluster-unauthenticated }
  meshTLSAuthentications:
    - { name: admins, namespace: shop, serviceAccounts: [web-admin, ops/oncall] }
  networkAuthentications:
    - name: office
      namespace: shop
      networks: [{ cidr: 192.168.0.0/16, except: [192.168.99.0/24] }]
  authorizationPolicies:
    - name: admins-from-office
      namespace: shop
      target: { server: web-http }
      requiredAuthentications: [{ meshTLS: admins }, { network: office }]
`;

describe('FileDiscoverInboundPolicy', () => {
  let fixture: MeshFileFixture;
  afterEach(async () => fixture.close());

  function watch(workload: PolicyWorkloadRef, port: number): UpdateRecorder<InboundServerPolicy> {
    const recorder = new UpdateRecorder<InboundServerPolicy>();
    new FileDiscoverInboundPolicy(fixture.source).watch(workload, port, recorder.listener);
    return recorder;
  }

  it('compiles the Server that selects an instance port by name, with its policies and access policy', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const [web0, web1] = [watch({ namespace: 'shop', name: 'web-0' }, 7001), watch({ namespace: 'shop', name: 'web-1' }, 7002)];
    const expected: InboundServerPolicy = {
      port: 7001,
      protocol: 'HTTP/1',
      server: { kind: 'Server', name: 'web-http' },
      authorizations: [
        {
          name: 'admins-from-office',
          kind: 'AuthorizationPolicy',
          networks: [{ cidr: unwrap(parseCidr('192.168.0.0/16')), except: [unwrap(parseCidr('192.168.99.0/24'))] }],
          authentication: {
            kind: 'meshTLS',
            identities: [
              { kind: 'exact', name: 'web-admin.shop.serviceaccount.identity.weft.cluster.local' },
              { kind: 'exact', name: 'oncall.ops.serviceaccount.identity.weft.cluster.local' },
            ],
          },
        },
        {
          name: 'cluster-unauthenticated',
          kind: 'default',
          networks: [{ cidr: unwrap(parseCidr('10.0.0.0/8')), except: [] }],
          authentication: { kind: 'unauthenticated' },
        },
      ],
      httpRoutes: [],
      audit: false,
    };
    expect(web0.updates).toEqual([expected]);
    expect(web1.updates).toEqual([{ ...expected, port: 7002 }]);
  });

  it("uses the namespace's default policy for ports no Server selects, and for workloads the file does not list", async () => {
    fixture = await MeshFileFixture.create(MESH);
    const networks = [unwrap(parseCidr('10.0.0.0/8'))];
    expect(watch({ namespace: 'vault', name: 'secrets-0' }, 9000).updates).toEqual([defaultInboundServerPolicy(9000, 'deny', networks)]);
    expect(watch({ namespace: 'shop', name: 'web-0' }, 9999).updates).toEqual([defaultInboundServerPolicy(9999, 'all-unauthenticated', networks)]);
    expect(watch({ namespace: 'shop', name: 'elsewhere' }, 7001).updates).toEqual([defaultInboundServerPolicy(7001, 'all-unauthenticated', networks)]);
  });

  it('sends the new policy when an edit changes it, and nothing to ports it does not change', async () => {
    fixture = await MeshFileFixture.create(MESH);
    const web0 = watch({ namespace: 'shop', name: 'web-0' }, 7001);
    const secrets = watch({ namespace: 'vault', name: 'secrets-0' }, 9000);
    await fixture.writeAndWait(MESH.replace('accessPolicy: cluster-unauthenticated', 'accessPolicy: deny'));
    expect(web0.updates).toHaveLength(2);
    expect(web0.updates[1]?.authorizations.map((authorization) => authorization.name)).toEqual(['admins-from-office']);
    expect(secrets.updates).toHaveLength(1);
  });
});
