import { describe, expect, it } from 'vitest';
import { envArguments, weftProxyEnv } from './weft-contender.js';

const ports = { listen: 4100, upstream: 4200, outbound: 4301, inbound: 4302, tap: 4303, admin: 4304 };

describe('weftProxyEnv', () => {
  it('serves the backend through one local-mode upstream and moves every other listener to the given loopback ports', () => {
    expect(weftProxyEnv('http1', ports)).toEqual({
      WEFT_PROXY_UPSTREAMS: 'bench=bench.default.svc.cluster.local:80@4100',
      WEFT_PROXY_ENDPOINTS: 'bench.default:80=127.0.0.1:4200',
      WEFT_PROXY_OUTBOUND_ADDR: '127.0.0.1:4301',
      WEFT_PROXY_INBOUND_ADDR: '127.0.0.1:4302',
      WEFT_PROXY_TAP_ADDR: '127.0.0.1:4303',
      WEFT_PROXY_ADMIN_ADDR: '127.0.0.1:4304',
      WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '1s',
    });
  });

  it('in tcp mode gives the service the sink port and lists it as opaque, so detection is skipped', () => {
    const env = weftProxyEnv('tcp', ports);
    expect(env['WEFT_PROXY_UPSTREAMS']).toBe('bench=bench.default.svc.cluster.local:4200@4100');
    expect(env['WEFT_PROXY_ENDPOINTS']).toBe('bench.default:4200=127.0.0.1:4200');
    expect(env['WEFT_PROXY_OPAQUE_PORTS']).toBe('4200');
    expect(weftProxyEnv('h2c', ports)['WEFT_PROXY_OPAQUE_PORTS']).toBeUndefined();
  });

  it('writes the variables as env(1) arguments', () => {
    expect(envArguments({ A: '1', B: 'x=y' })).toEqual(['A=1', 'B=x=y']);
  });
});
