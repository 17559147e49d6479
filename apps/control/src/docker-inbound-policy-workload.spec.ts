import type { DockerWorkload } from '@weft/adapter-docker';
import { describe, expect, it } from 'vitest';
import { dockerPolicyWorkload, InvalidDockerPortNamesError, readDockerPortNames } from './docker-inbound-policy-workload.js';

const web: DockerWorkload = {
  containerId: 'c1',
  name: 'shop-web-1',
  namespace: 'shop',
  service: 'web',
  serviceAccount: 'web',
  ports: [8080],
  meshed: true,
  weight: 10_000,
  running: true,
  ready: true,
  ips: [],
  labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop', tier: 'front', 'weft.io/port-names': 'http=8080' },
};

describe('dockerPolicyWorkload', () => {
  it('selects by the container labels plus its service and its name as the instance, with the named ports', () => {
    expect(dockerPolicyWorkload(web)).toEqual({
      selection: {
        namespace: 'shop',
        labels: { ...web.labels, 'weft.io/service': 'web', 'weft.io/instance': 'shop-web-1' },
        portNames: { http: 8080 },
      },
    });
  });

  it('gives no port names, and the problem, for a label it cannot read', () => {
    const read = dockerPolicyWorkload({ ...web, labels: { ...web.labels, 'weft.io/port-names': 'http=80800' } });
    expect(read.selection.portNames).toEqual({});
    expect(read.selection.labels['weft.io/service']).toBe('web');
    expect(read.problem).toBeInstanceOf(InvalidDockerPortNamesError);
  });
});

describe('readDockerPortNames', () => {
  it('reads names and ports separated by commas, with spaces allowed; no label means no names', () => {
    expect(readDockerPortNames('web', ' http = 8080 ,admin=9090,grpc-api=50051')).toEqual({ ok: true, value: { http: 8080, admin: 9090, 'grpc-api': 50051 } });
    expect(readDockerPortNames('web', undefined)).toEqual({ ok: true, value: {} });
    expect(readDockerPortNames('web', ' ')).toEqual({ ok: true, value: {} });
  });

  it.each([
    ['http', 'has "http", which is not <name>=<port>'],
    ['http=8080=1', 'has "http=8080=1", which is not <name>=<port>'],
    ['HTTP=8080', 'has the port name "HTTP"; a port name is 1-15 lowercase letters, digits and single "-", with a letter'],
    ['8080=8080', 'has the port name "8080"; a port name is 1-15 lowercase letters, digits and single "-", with a letter'],
    ['a-very-long-port-name=1', 'has the port name "a-very-long-port-name"; a port name is 1-15 lowercase letters, digits and single "-", with a letter'],
    ['http=0', 'has "0" for port "http", which is not a port from 1 to 65535'],
    ['http=65536', 'has "65536" for port "http", which is not a port from 1 to 65535'],
    ['http=8080,http=9090', 'names port "http" twice'],
  ])('refuses %j, naming the container, the label and the value', (text, reason) => {
    const read = readDockerPortNames('shop-web-1', text);
    if (read.ok) throw new Error('expected an error');
    expect(read.error).toBeInstanceOf(InvalidDockerPortNamesError);
    expect(read.error.input).toBe(text);
    expect(read.error.container).toBe('shop-web-1');
    expect(read.error.toString()).toBe(
      `invalid Docker label ${JSON.stringify(text)}: label weft.io/port-names of container "shop-web-1" ${reason}; write e.g. "http=8080,admin=9090"; Servers select none of its ports by name until it is fixed`,
    );
  });
});
