import { InvalidDockerLabelError } from '@weft/adapter-docker';
import { describe, expect, it } from 'vitest';
import type { EngineContainer } from './sidecar-engine.js';
import { initContainerSpec, readInjectionTarget, sidecarContainerSpec } from './sidecar-plan.js';

function container(labels: Record<string, string>, name = 'shop-web-1'): EngineContainer {
  return { id: 'abc123', name, labels, running: true, startedAt: '2026-01-01T00:00:00Z' };
}

const SETTINGS = { image: 'weft/proxy:latest', controlAddr: '172.18.0.2:8086' };

describe('readInjectionTarget', () => {
  it('takes a Compose service the way discovery does: namespace from the project, service account from the service', () => {
    const read = readInjectionTarget(
      container({ 'weft.io/inject': 'enabled', 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop', 'weft.io/port': '8080,9090' }),
      'example.org',
    );
    expect(read.ok && read.value).toMatchObject({
      identity: { trustDomain: 'example.org', namespace: 'shop', serviceAccount: 'web' },
      workload: 'shop/shop-web-1',
      appPorts: [8080, 9090],
      skipInboundPorts: '4290,4291',
    });
  });

  it('is undefined for containers that do not ask for a sidecar, and for sidecars', () => {
    expect(readInjectionTarget(container({ 'weft.io/service': 'web', 'weft.io/port': '80' }), 'cluster.local')).toEqual({ ok: true, value: undefined });
    expect(readInjectionTarget(container({ 'weft.io/inject': 'enabled', 'weft.io/sidecar-for': 'x' }), 'cluster.local')).toEqual({ ok: true, value: undefined });
  });

  it.each([
    ['weft.io/skip-outbound-ports', '5432-80'],
    ['weft.io/skip-inbound-ports', 'ssh'],
    ['weft.io/skip-subnets', '10.0.0.0/33'],
    ['weft.io/service-account', 'Not_A_Label'],
  ])('refuses %s=%s, naming the container, the label and the value', (label, value) => {
    const read = readInjectionTarget(container({ 'weft.io/inject': 'enabled', [label]: value }), 'cluster.local');
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error).toBeInstanceOf(InvalidDockerLabelError);
    expect(read.error.input).toBe(value);
    expect(read.error.message).toContain(label);
    expect(read.error.message).toContain('shop-web-1');
  });
});

describe('the containers of a target', () => {
  it('passes the skip labels to weft-init and points the sidecar at the first app port', () => {
    const read = readInjectionTarget(
      container({
        'weft.io/inject': 'enabled',
        'weft.io/service': 'web',
        'weft.io/port': '9090',
        'weft.io/skip-inbound-ports': '22',
        'weft.io/skip-outbound-ports': '5432, 6379',
        'weft.io/skip-subnets': '169.254.0.0/16',
      }),
      'cluster.local',
    );
    if (!read.ok || read.value === undefined) throw new Error('expected a target');
    expect(initContainerSpec(read.value, SETTINGS).cmd).toEqual([
      '--proxy-uid', '2102', '--inbound-port', '4243', '--outbound-port', '4240',
      '--skip-inbound-ports', '4290,4291,22', '--skip-outbound-ports', '5432,6379', '--skip-subnets', '169.254.0.0/16',
    ]);
    expect(sidecarContainerSpec(read.value, SETTINGS).env.WEFT_PROXY_INBOUND_APP_ADDR).toBe('127.0.0.1:9090');
    expect(sidecarContainerSpec(read.value, SETTINGS).labels['weft.io/app-started-at']).toBe('2026-01-01T00:00:00Z');
  });
});
