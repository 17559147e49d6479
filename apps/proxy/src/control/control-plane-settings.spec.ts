import { DEFAULT_LAST_KNOWN_TTL_MS } from '@weft/adapter-grpc';
import { describe, expect, it } from 'vitest';
import { describeProxyConfig, PROXY_ENV_DEFAULTS, ProxyConfigError, readProxyConfig } from '../proxy-config.js';

/** The problems readProxyConfig reports for `env`; fails the test if it accepts it. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readProxyConfig(env, 'web-1');
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyConfigError);
    const problems = (error as ProxyConfigError).problems;
    // The thrown message lists the same problems, so the user sees them all on stderr.
    for (const problem of problems) expect((error as Error).message).toContain(problem);
    return problems;
  }
  throw new Error(`readProxyConfig accepted ${JSON.stringify(env)}`);
}

const identity = {
  WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
  WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web',
  WEFT_PROXY_IDENTITY_TOKEN: 'token',
  WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '/tmp/ca.crt',
};

describe('control plane settings', () => {
  it('leave the proxy standalone by default, with the clients\' 10 minute time to live listed', () => {
    const config = readProxyConfig({}, 'web-1');
    expect(config.control).toBeUndefined();
    expect(Object.keys(describeProxyConfig(config)).filter((key) => key.startsWith('control'))).toEqual([]);
    expect(PROXY_ENV_DEFAULTS.WEFT_PROXY_CONTROL_ADDR).toBe('');
    expect(PROXY_ENV_DEFAULTS.WEFT_PROXY_CONTROL_STATE_TTL).toBe('10m');
    expect(DEFAULT_LAST_KNOWN_TTL_MS).toBe(600_000);
    // An empty value is unset, as `weft up` or a shell may pass it.
    expect(readProxyConfig({ WEFT_PROXY_CONTROL_ADDR: ' ' }, 'web-1').control).toBeUndefined();
  });

  it('read the control plane\'s address, with the default time to live, and log both', () => {
    const config = readProxyConfig({ WEFT_PROXY_CONTROL_ADDR: '127.0.0.1:8086' }, 'web-1');
    expect(config.control).toEqual({ addr: { ip: '127.0.0.1', port: 8086 }, stateTtlMs: 600_000 });
    expect(describeProxyConfig(config)).toMatchObject({ controlPlane: '127.0.0.1:8086', controlStateTtl: '10m' });
  });

  it('read an IPv6 address and a time to live', () => {
    const config = readProxyConfig({ WEFT_PROXY_CONTROL_ADDR: '[::1]:18086', WEFT_PROXY_CONTROL_STATE_TTL: '90s' }, 'web-1');
    expect(config.control).toEqual({ addr: { ip: '::1', port: 18086 }, stateTtlMs: 90_000 });
    expect(describeProxyConfig(config)).toMatchObject({ controlPlane: '[::1]:18086', controlStateTtl: '1m30s' });
  });

  it('point the identity client at the control plane unless WEFT_PROXY_IDENTITY_ADDR says otherwise', () => {
    const shared = readProxyConfig({ ...identity, WEFT_PROXY_CONTROL_ADDR: '10.0.0.5:8086' }, 'web-1');
    expect(shared.identity?.certifierAddr).toEqual({ ip: '10.0.0.5', port: 8086 });
    const own = readProxyConfig({ ...identity, WEFT_PROXY_CONTROL_ADDR: '10.0.0.5:8086', WEFT_PROXY_IDENTITY_ADDR: '10.0.0.6:9000' }, 'web-1');
    expect(own.identity?.certifierAddr).toEqual({ ip: '10.0.0.6', port: 9000 });
    const standalone = readProxyConfig(identity, 'web-1');
    expect(standalone.identity?.certifierAddr).toEqual({ ip: '127.0.0.1', port: 8086 });
  });

  it.each([
    ['a host name', 'control.weft:8086', /^WEFT_PROXY_CONTROL_ADDR="control\.weft:8086": host "control\.weft" is not an IP address.*e\.g\. 127\.0\.0\.1:8086\)$/],
    ['no port', '127.0.0.1', /^WEFT_PROXY_CONTROL_ADDR="127\.0\.0\.1": .*expected the control plane's ip:port/],
    ['port 0', '127.0.0.1:0', /^WEFT_PROXY_CONTROL_ADDR="127\.0\.0\.1:0": port 0 is out of range/],
    ['a scheme', 'http://127.0.0.1:8086', /^WEFT_PROXY_CONTROL_ADDR="http:\/\/127\.0\.0\.1:8086": has a scheme/],
    ['the IPv4 any address', '0.0.0.0:8086', /^WEFT_PROXY_CONTROL_ADDR="0\.0\.0\.0:8086": 0\.0\.0\.0 is an address to listen on, not one to connect to/],
    ['the IPv6 any address', '[::]:8086', /^WEFT_PROXY_CONTROL_ADDR="\[::\]:8086": :: is an address to listen on/],
  ])('refuse an address with %s, naming the variable', (_, value, expected) => {
    expect(problemsOf({ WEFT_PROXY_CONTROL_ADDR: value })).toEqual([expect.stringMatching(expected)]);
  });

  it.each([
    ['no unit', '600', /^WEFT_PROXY_CONTROL_STATE_TTL="600": .*\(expected a duration, e\.g\. 10m\)$/],
    ['zero', '0s', /^WEFT_PROXY_CONTROL_STATE_TTL="0s": must be longer than 0/],
    ['more than a day', '25h', /^WEFT_PROXY_CONTROL_STATE_TTL="25h": is longer than 24h; write at most 24h/],
  ])('refuse a time to live with %s, naming the variable', (_, value, expected) => {
    expect(problemsOf({ WEFT_PROXY_CONTROL_ADDR: '127.0.0.1:8086', WEFT_PROXY_CONTROL_STATE_TTL: value })).toEqual([
      expect.stringMatching(expected),
    ]);
  });

  it('refuse a time to live without a control plane', () => {
    expect(problemsOf({ WEFT_PROXY_CONTROL_STATE_TTL: '1m' })).toEqual([
      expect.stringMatching(/^WEFT_PROXY_CONTROL_STATE_TTL is set but WEFT_PROXY_CONTROL_ADDR is not; .*unset WEFT_PROXY_CONTROL_STATE_TTL$/),
    ]);
  });

  it('refuse WEFT_PROXY_ENDPOINTS beside a control plane: two sources of endpoints', () => {
    const problems = problemsOf({ WEFT_PROXY_CONTROL_ADDR: '127.0.0.1:8086', WEFT_PROXY_ENDPOINTS: 'books.shop:7000=127.0.0.1:9001' });
    expect(problems).toEqual([
      expect.stringMatching(/^WEFT_PROXY_ENDPOINTS and WEFT_PROXY_CONTROL_ADDR are both set; .*unset WEFT_PROXY_ENDPOINTS/),
    ]);
  });

  it('report every bad control setting at once, beside the other variables\' problems', () => {
    const problems = problemsOf({
      WEFT_PROXY_CONTROL_ADDR: 'nowhere',
      WEFT_PROXY_CONTROL_STATE_TTL: 'soon',
      WEFT_PROXY_ENDPOINTS: 'books.shop:7000=127.0.0.1:9001',
      WEFT_PROXY_CONNECT_TIMEOUT: 'fast',
    });
    expect(problems.map((problem) => problem.split(/[=: ]/)[0])).toEqual([
      'WEFT_PROXY_CONNECT_TIMEOUT',
      'WEFT_PROXY_CONTROL_ADDR',
      'WEFT_PROXY_CONTROL_STATE_TTL',
      'WEFT_PROXY_ENDPOINTS',
    ]);
  });
});
