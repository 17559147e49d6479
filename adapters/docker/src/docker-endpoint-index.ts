// DockerEndpointIndex: the endpoints of every service port and of every running container's IP, from the workloads.
import { type Authority, type Endpoint, formatSocketAddress, makeEndpoint } from '@weft/core';
import { DOCKER_PROXY_INBOUND_PORT, type DockerWorkload } from './docker-workload.js';

export interface DockerEndpointIndex {
  /** The ready endpoints of each service port, by "<service>.<namespace>.svc.<cluster domain>:<port>". */
  readonly services: ReadonlyMap<string, readonly Endpoint[]>;
  /** The endpoint at each "ip:port" (or "[ipv6]:port") of a running service container's ports. */
  readonly addresses: ReadonlyMap<string, Endpoint>;
}

/**
 * A service port exists while any container (running or not) is labelled with it; its endpoints are the ready ones,
 * one per network address. An address is indexed while its container runs, ready or not: a client that dialled the IP
 * itself still needs the peer's identity.
 */
export function indexDockerWorkloads(workloads: Iterable<DockerWorkload>, clusterDomain: string): DockerEndpointIndex {
  const services = new Map<string, Endpoint[]>();
  const addresses = new Map<string, Endpoint>();
  for (const workload of workloads) {
    for (const port of workload.ports) {
      const key = `${workload.service}.${workload.namespace}.svc.${clusterDomain}:${port}`;
      const endpoints = services.get(key) ?? [];
      services.set(key, endpoints);
      if (!workload.running) continue;
      for (const ip of workload.ips) {
        const endpoint = dockerEndpoint(workload, ip, port);
        if (endpoint === undefined) continue;
        addresses.set(formatSocketAddress(endpoint.address), endpoint);
        if (workload.ready) endpoints.push(endpoint);
      }
    }
  }
  return { services, addresses };
}

/** The endpoints of `target`, or undefined when it does not exist. */
export function dockerEndpointsOf(index: DockerEndpointIndex, target: Authority): readonly Endpoint[] | undefined {
  switch (target.kind) {
    case 'service':
      return index.services.get(`${target.fqdn}:${target.port}`);
    case 'dns':
      return index.services.get(`${target.host}:${target.port}`);
    case 'ip': {
      const endpoint = index.addresses.get(formatSocketAddress(target));
      return endpoint === undefined ? undefined : [endpoint];
    }
  }
}

/** The endpoint shape of the file adapter: metric labels, and for a meshed workload its identity and proxy port. */
function dockerEndpoint(workload: DockerWorkload, ip: string, port: number): Endpoint | undefined {
  const made = makeEndpoint({
    address: { ip, port },
    weight: workload.weight,
    labels: {
      namespace: workload.namespace,
      service: workload.service,
      pod: workload.name,
      ...(workload.meshed ? { serviceaccount: workload.serviceAccount } : {}),
    },
    ...(workload.identityName === undefined ? {} : { tlsIdentity: workload.identityName, proxyInboundPort: DOCKER_PROXY_INBOUND_PORT }),
  });
  return made.ok ? made.value : undefined;
}
