import { formatAuthority } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { describeProxyConfig, PortSet, PROXY_ENV_DEFAULTS, ProxyConfigError, readProxyConfig } from './proxy-config.js';

/** The problems readProxyConfig reports for `env`; fails the test if it accepts it. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readProxyConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyConfigError);
    return (error as ProxyConfigError).problems;
  }
  throw new Error(`readProxyConfig accepted ${JSON.stringify(env)}`);
}

describe('readProxyConfig', () => {
  it('uses the documented defaults', () => {
    expect(describeProxyConfig(readProxyConfig({}, 'web-1'))).toEqual({
      outbound: '127.0.0.1:4240',
      inbound: '0.0.0.0:4243',
      tap: '0.0.0.0:4290',
      admin: '127.0.0.1:4291',
      inboundApp: '127.0.0.1:8080',
      opaquePorts: '25,587,3306,4444,5432,6379,9300,11211',
      detectTimeout: '10s',
      connectTimeout: '1s',
      failFastTimeout: '3s',
      shutdownGracePeriod: '2m',
      shutdownEndpoint: 'disabled',
      transparent: 'off',
      tapDenyHeaders: readProxyConfig({}).tapDenyList.toString(),
      defaultInboundPolicy: 'all-unauthenticated',
      clusterNetworks: '10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16,fd00::/8',
      policyWorkload: 'default/web-1',
    });
    const config = readProxyConfig({});
    expect(config.upstreams).toEqual([]);
    expect([config.detectTimeoutMs, config.connectTimeoutMs, config.failFastTimeoutMs]).toEqual([10_000, 1_000, 3_000]);
  });

  it('takes addresses from WEFT_PROXY_* variables, IPv6 included', () => {
    const config = readProxyConfig({ WEFT_PROXY_INBOUND_ADDR: '[::]:14243', WEFT_PROXY_ADMIN_ADDR: '127.0.0.2:9999' });
    expect(describeProxyConfig(config)).toMatchObject({ inbound: '[::]:14243', admin: '127.0.0.2:9999' });
  });

  it('reports every bad variable at once, by name and value', () => {
    const problems = problemsOf({
      WEFT_PROXY_OUTBOUND_ADDR: 'localhost',
      WEFT_PROXY_TAP_ADDR: '0.0.0.0:70000',
      WEFT_PROXY_INBOUND_APP_ADDR: '8080',
      WEFT_PROXY_DETECT_TIMEOUT: '10',
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^WEFT_PROXY_OUTBOUND_ADDR="localhost": .*expected ip:port, e\.g\. 127\.0\.0\.1:4240/);
    expect(problems[1]).toMatch(/^WEFT_PROXY_TAP_ADDR="0\.0\.0\.0:70000": /);
    expect(problems[2]).toMatch(/^WEFT_PROXY_INBOUND_APP_ADDR="8080": .*e\.g\. 127\.0\.0\.1:8080/);
    expect(problems[3]).toMatch(/^WEFT_PROXY_DETECT_TIMEOUT="10": .*units are ms, s, m and h.*e\.g\. 10s/);
  });
});

describe('timeouts', () => {
  it('reads Go-style durations', () => {
    const config = readProxyConfig({
      WEFT_PROXY_DETECT_TIMEOUT: '300ms',
      WEFT_PROXY_CONNECT_TIMEOUT: '1.5s',
      WEFT_PROXY_FAIL_FAST_TIMEOUT: '1m',
    });
    expect([config.detectTimeoutMs, config.connectTimeoutMs, config.failFastTimeoutMs]).toEqual([300, 1_500, 60_000]);
  });

  it('refuses a zero timeout, naming the variable', () => {
    const problems = problemsOf({ WEFT_PROXY_CONNECT_TIMEOUT: '0', WEFT_PROXY_FAIL_FAST_TIMEOUT: '0s' });
    expect(problems).toEqual([
      'WEFT_PROXY_CONNECT_TIMEOUT="0": must be longer than 0 (expected a duration, e.g. 1s)',
      'WEFT_PROXY_FAIL_FAST_TIMEOUT="0s": must be longer than 0 (expected a duration, e.g. 3s)',
    ]);
  });
});

describe('WEFT_PROXY_OPAQUE_PORTS', () => {
  it('defaults to the server-speaks-first ports', () => {
    const ports = readProxyConfig({}).opaquePorts;
    for (const port of [25, 587, 3306, 4444, 5432, 6379, 9300, 11211]) expect(ports.has(port)).toBe(true);
    for (const port of [80, 443, 8080, 5433]) expect(ports.has(port)).toBe(false);
  });

  it('reads ports and inclusive ranges, merging overlaps', () => {
    const ports = readProxyConfig({ WEFT_PROXY_OPAQUE_PORTS: ' 5432, 6000-6010 ,6005-6020,7000' }).opaquePorts;
    expect(ports.toString()).toBe('5432,6000-6020,7000');
    expect([5999, 6000, 6020, 6021].map((port) => ports.has(port))).toEqual([false, true, true, false]);
  });

  it('detects on every port when empty', () => {
    const ports = readProxyConfig({ WEFT_PROXY_OPAQUE_PORTS: '' }).opaquePorts;
    expect(ports.has(5432)).toBe(false);
    expect(ports.toString()).toBe('');
  });

  it.each([
    ['mysql', /port "mysql" is not a number/],
    ['0', /port 0 is out of range/],
    ['0587', /port "0587" has a leading zero; write 587/],
    ['70000', /port 70000 is out of range/],
    ['6010-6000', /range "6010-6000" ends before it starts; write the lower port first, e.g. "6000-6010"/],
    ['1-2-3', /"1-2-3" is not a port or a range/],
    ['80-', /port "" is not a number/],
  ])('refuses %j', (value, reason) => {
    const [problem] = problemsOf({ WEFT_PROXY_OPAQUE_PORTS: value });
    expect(problem).toMatch(new RegExp(`^WEFT_PROXY_OPAQUE_PORTS=${JSON.stringify(value).replace(/[-[\]]/g, '\\$&')}: `));
    expect(problem).toMatch(reason);
  });
});

describe('PortSet', () => {
  it('keeps single ports and adjacent ranges merged', () => {
    expect(new PortSet([[3, 3], [1, 2], [10, 12]]).toString()).toBe('1-3,10-12');
  });
});

describe('WEFT_PROXY_UPSTREAMS', () => {
  it('is empty by default', () => {
    expect(PROXY_ENV_DEFAULTS.WEFT_PROXY_UPSTREAMS).toBe('');
  });

  it('reads name=authority@listenPort entries, each on loopback', () => {
    const config = readProxyConfig({
      WEFT_PROXY_UPSTREAMS: 'books=books.shop.svc.cluster.local:7000@4301, pg=10.0.0.7:5432@4302,v6=[fd00::1]:80@4303,',
    });
    expect(config.upstreams.map((u) => [u.name, formatAuthority(u.authority), u.listenAddr])).toEqual([
      ['books', 'books.shop.svc.cluster.local:7000', { ip: '127.0.0.1', port: 4301 }],
      ['pg', '10.0.0.7:5432', { ip: '127.0.0.1', port: 4302 }],
      ['v6', '[fd00::1]:80', { ip: '127.0.0.1', port: 4303 }],
    ]);
    expect(config.upstreams[0]?.authority).toMatchObject({ kind: 'service', name: 'books', namespace: 'shop', port: 7000 });
    expect(describeProxyConfig(config)['upstream.books']).toBe('127.0.0.1:4301 -> books.shop.svc.cluster.local:7000');
  });

  it.each([
    ['books', /"books" is not an upstream; write name=authority@listenPort, e\.g\. "books=books\.shop\.svc\.cluster\.local:7000@4301"/],
    ['books=books.shop:7000', /is not an upstream/],
    ['Books=books.shop:7000@4301', /upstream name "Books" .* is not a lowercase DNS label/],
    ['books=books.shop@4301', /authority "books\.shop" of upstream "books" has no port; write it out, e\.g\. "books\.shop:80"/],
    ['books=http://books:80@4301', /authority "http:\/\/books:80" of upstream "books" has a scheme/],
    ['books=books.shop:7000@http', /listen port of upstream "books": port "http" is not a number/],
    ['books=books.shop:7000@0', /port 0 is out of range/],
    ['a=a.ns:1@4301,a=b.ns:1@4302', /upstream "a" is named twice/],
    ['a=a.ns:1@4301,b=b.ns:1@4301', /upstreams "a" and "b" both listen on port 4301/],
  ])('refuses %j, naming the variable', (value, reason) => {
    const problems = problemsOf({ WEFT_PROXY_UPSTREAMS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^WEFT_PROXY_UPSTREAMS="/);
    expect(problems[0]).toMatch(reason);
  });

  it('refuses a listen port that another listener of the proxy uses', () => {
    const problems = problemsOf({ WEFT_PROXY_UPSTREAMS: 'books=books.shop:7000@4291' });
    expect(problems).toEqual([
      'WEFT_PROXY_UPSTREAMS: upstream "books" listens on port 4291, which WEFT_PROXY_ADMIN_ADDR already uses; pick another port',
    ]);
  });
});

describe('standalone endpoints and shutdown settings', () => {
  it('reads services and their addresses from WEFT_PROXY_ENDPOINTS', () => {
    const config = readProxyConfig({
      WEFT_PROXY_ENDPOINTS: 'books.shop:7000=127.0.0.1:9001, 127.0.0.1:9002; web.shop.svc.cluster.local:80=[::1]:9100',
    });
    expect(config.staticEndpoints.map((s) => [s.authority.kind === 'service' ? s.authority.fqdn : '', s.addresses])).toEqual([
      ['books.shop.svc.cluster.local', [{ ip: '127.0.0.1', port: 9001 }, { ip: '127.0.0.1', port: 9002 }]],
      ['web.shop.svc.cluster.local', [{ ip: '::1', port: 9100 }]],
    ]);
    expect(describeProxyConfig(config)['endpoints.books.shop.svc.cluster.local:7000']).toBe('127.0.0.1:9001,127.0.0.1:9002');
  });

  it.each([
    ['books.shop:7000', /has no "="/],
    ['books.shop:0=127.0.0.1:9001', /service "books.shop:0"/],
    ['books.shop:7000=localhost:9001', /address "localhost:9001" of books.shop.svc.cluster.local:7000/],
    ['a.b:1=127.0.0.1:1;a.b:1=127.0.0.1:2', /listed twice/],
  ])('refuses WEFT_PROXY_ENDPOINTS=%j naming the bad part', (value, message) => {
    expect(() => readProxyConfig({ WEFT_PROXY_ENDPOINTS: value })).toThrow(message);
  });

  it('defaults to a 120 s grace period and no shutdown endpoint', () => {
    const config = readProxyConfig({});
    expect(config.shutdownGracePeriodMs).toBe(120_000);
    expect(config.shutdownEndpointEnabled).toBe(false);
    expect(config.staticEndpoints).toEqual([]);
  });

  it('reads the shutdown settings and refuses a non-boolean', () => {
    const config = readProxyConfig({ WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '5s', WEFT_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'true' });
    expect(config.shutdownGracePeriodMs).toBe(5_000);
    expect(config.shutdownEndpointEnabled).toBe(true);
    expect(() => readProxyConfig({ WEFT_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'yes' })).toThrow(
      /WEFT_PROXY_SHUTDOWN_ENDPOINT_ENABLED="yes": "yes" is not a boolean/,
    );
  });

  it('reads WEFT_PROXY_TRANSPARENT, a sidecar behind weft-init, and refuses a non-boolean', () => {
    const config = readProxyConfig({ WEFT_PROXY_TRANSPARENT: 'true' });
    expect(config.transparent).toBe(true);
    expect(describeProxyConfig(config)).toMatchObject({ transparent: 'on' });
    expect(() => readProxyConfig({ WEFT_PROXY_TRANSPARENT: 'sidecar' })).toThrow(/WEFT_PROXY_TRANSPARENT="sidecar": "sidecar" is not a boolean/);
  });
});

describe('tap header deny list', () => {
  it('always denies credentials and adds the configured headers', () => {
    const config = readProxyConfig({ WEFT_PROXY_TAP_DENY_HEADERS: 'x-api-key,*session*' });
    for (const name of ['authorization', 'cookie', 'x-auth-token', 'x-api-key', 'x-session-id']) {
      expect(config.tapDenyList.denies(name)).toBe(true);
    }
    expect(config.tapDenyList.denies('content-type')).toBe(false);
  });

  it('names a bad entry', () => {
    expect(() => readProxyConfig({ WEFT_PROXY_TAP_DENY_HEADERS: 'bad header' })).toThrow(/^.*WEFT_PROXY_TAP_DENY_HEADERS="bad header"/s);
  });
});
