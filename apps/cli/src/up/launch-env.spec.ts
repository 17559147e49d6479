import { describe, expect, it } from 'vitest';
import { appEnv } from './app-env.js';
import { planOf } from './mesh-plan.spec-helper.js';
import type { InstancePorts } from './port-assignment.js';
import { ProxyEnvError, proxyEnv } from './proxy-env.js';

const [web, books, legacy] = planOf().instances;
const webPorts: InstancePorts = {
  app: 7001,
  proxy: { inbound: 4301, admin: 40_003, tap: 40_004, outbound: 40_005 },
  upstreams: { books: 40_002, 'books-7001': 5001 },
};

describe('appEnv', () => {
  it('passes the caller environment, PORT, the file env and each upstream address', () => {
    if (!web) throw new Error('no web');
    const env = appEnv({ PATH: '/usr/bin', HOME: '/home/me', UNSET: undefined }, web, webPorts);
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/me',
      PORT: '7001',
      GREETING: 'hi',
      BOOKS_ADDR: '127.0.0.1:40002',
      BOOKS_ADMIN_ADDR: '127.0.0.1:5001',
    });
  });

  it('lets the file set PORT itself', () => {
    if (!web) throw new Error('no web');
    const instance = { ...web, launch: { ...web.launch, env: { PORT: '9999' } } };
    expect(appEnv({}, instance, webPorts)['PORT']).toBe('9999');
  });
});

describe('proxyEnv', () => {
  const input = { controlAddr: '127.0.0.1:8086', trustAnchorsFile: '/state/ca.crt', nodePath: '/opt/node24/bin/node', shutdownGracePeriod: '3s' };

  it('points a meshed proxy at the control plane, with its identity, token, listeners and upstreams', () => {
    if (!web) throw new Error('no web');
    const env = proxyEnv({ PATH: '/usr/bin', WEFT_PROXY_ENDPOINTS: 'x=1.2.3.4:5' }, { ...input, instance: web, ports: webPorts, token: 'tok' });
    expect(env).toEqual({
      PATH: '/usr/bin',
      WEFT_NODE: '/opt/node24/bin/node',
      WEFT_PROXY_CONTROL_ADDR: '127.0.0.1:8086',
      WEFT_PROXY_POLICY_WORKLOAD: 'shop/web-0',
      WEFT_PROXY_INBOUND_ADDR: '127.0.0.1:4301',
      WEFT_PROXY_INBOUND_APP_ADDR: '127.0.0.1:7001',
      WEFT_PROXY_UPSTREAMS: 'books=books.shop.svc.cluster.local:7000@40002,books-7001=books.shop.svc.cluster.local:7001@5001',
      WEFT_PROXY_ADMIN_ADDR: '127.0.0.1:40003',
      WEFT_PROXY_TAP_ADDR: '127.0.0.1:40004',
      WEFT_PROXY_OUTBOUND_ADDR: '127.0.0.1:40005',
      WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '3s',
      WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
      WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web',
      WEFT_PROXY_IDENTITY_TRUST_DOMAIN: 'cluster.local',
      WEFT_PROXY_IDENTITY_TOKEN: 'tok',
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '/state/ca.crt',
      WEFT_PROXY_IDENTITY_ADDR: '127.0.0.1:8086',
    });
  });

  it('gives a proxy of an unmeshed instance no identity', () => {
    if (!legacy) throw new Error('no legacy');
    const ports = { app: 7102, proxy: { inbound: 1, admin: 2, tap: 3, outbound: 4 }, upstreams: {} };
    const env = proxyEnv({}, { ...input, instance: legacy, ports });
    expect(Object.keys(env).filter((name) => name.startsWith('WEFT_PROXY_IDENTITY'))).toEqual([]);
    expect(env['WEFT_PROXY_UPSTREAMS']).toBe('');
  });

  it('refuses a meshed instance without a token', () => {
    if (!books) throw new Error('no books');
    const ports = { app: 7101, proxy: { inbound: 1, admin: 2, tap: 3, outbound: 4 }, upstreams: {} };
    expect(() => proxyEnv({}, { ...input, instance: books, ports })).toThrow(ProxyEnvError);
  });
});
