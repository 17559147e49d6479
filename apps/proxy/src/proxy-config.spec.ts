import { describe, expect, it } from 'vitest';
import { describeProxyConfig, ProxyConfigError, readProxyConfig } from './proxy-config.js';

describe('readProxyConfig', () => {
  it('uses the documented defaults', () => {
    expect(describeProxyConfig(readProxyConfig({}))).toEqual({
      outbound: '127.0.0.1:4240',
      inbound: '0.0.0.0:4243',
      tap: '0.0.0.0:4290',
      admin: '127.0.0.1:4291',
    });
  });

  it('takes addresses from WEFT_PROXY_* variables, IPv6 included', () => {
    const config = readProxyConfig({ WEFT_PROXY_INBOUND_ADDR: '[::]:14243', WEFT_PROXY_ADMIN_ADDR: '127.0.0.2:9999' });
    expect(describeProxyConfig(config)).toMatchObject({ inbound: '[::]:14243', admin: '127.0.0.2:9999' });
  });

  it('reports every bad variable at once, by name and value', () => {
    let error: unknown;
    try {
      readProxyConfig({ WEFT_PROXY_OUTBOUND_ADDR: 'localhost', WEFT_PROXY_TAP_ADDR: '0.0.0.0:70000' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProxyConfigError);
    const problems = (error as ProxyConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^WEFT_PROXY_OUTBOUND_ADDR="localhost": .*expected ip:port, e\.g\. 127\.0\.0\.1:4240/);
    expect(problems[1]).toMatch(/^WEFT_PROXY_TAP_ADDR="0\.0\.0\.0:70000": /);
  });
});
