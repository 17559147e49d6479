import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planOf } from './mesh-plan.spec-helper.js';
import { assignPorts, fixedPorts, OutOfPortsError, portsToAssign } from './port-assignment.js';

describe('assignPorts', () => {
  it('keeps the ports the file fixes and fills the open ones from the candidates', () => {
    const plan = planOf();
    const ports = assignPorts(plan, [40_000, 40_001, 40_002, 40_003, 40_004, 40_005, 40_006, 40_007, 40_008, 40_009, 40_010, 40_011, 40_012]);
    expect(ports.control).toEqual({ grpc: 40_000, admin: 40_001 });
    expect(ports.instances.get('shop/web-0')).toEqual({
      app: 7001,
      proxy: { inbound: 4301, admin: 40_003, tap: 40_004, outbound: 40_005 },
      upstreams: { books: 40_002, 'books-7001': 5001 },
    });
    expect(ports.instances.get('shop/books-0')).toEqual({
      app: 7101,
      proxy: { inbound: 40_006, admin: 40_007, tap: 40_008, outbound: 40_009 },
      upstreams: {},
    });
    expect(ports.instances.get('shop/books-legacy')).toEqual({ app: 7102, upstreams: {} });
  });

  it('never hands out a fixed port, and takes --grpc-port as given', () => {
    const plan = planOf();
    const ports = assignPorts(plan, [7001, 4301, 5001, 9999, 50_000, 50_001, 50_002, 50_003, 50_004, 50_005, 50_006, 50_007, 50_008], 8086);
    expect(ports.control).toEqual({ grpc: 8086, admin: 9999 });
    expect(ports.instances.get('shop/web-0')?.upstreams['books']).toBe(50_000);
  });

  it('says when the candidates run out', () => {
    expect(() => assignPorts(planOf(), [1, 2, 3])).toThrow(OutOfPortsError);
  });

  it('gives every listener its own port, whatever the candidates (property)', () => {
    const plan = planOf();
    const needed = portsToAssign(plan) + fixedPorts(plan).length;
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 65_535 }), { minLength: needed, maxLength: needed + 10 }), (candidates) => {
        const ports = assignPorts(plan, candidates);
        const all = [ports.control.grpc, ports.control.admin];
        for (const instance of ports.instances.values()) {
          all.push(instance.app, ...Object.values(instance.upstreams));
          if (instance.proxy) all.push(instance.proxy.inbound, instance.proxy.admin, instance.proxy.tap, instance.proxy.outbound);
        }
        expect(new Set(all).size).toBe(all.length);
      }),
    );
  });
});

describe('fixedPorts', () => {
  it('names what each fixed port is for', () => {
    expect(fixedPorts(planOf(), 8086)).toEqual([
      { port: 8086, what: 'the control plane (gRPC)' },
      { port: 7001, what: 'the app of shop/web-0' },
      { port: 4301, what: 'the proxy of shop/web-0 (inbound)' },
      { port: 5001, what: 'upstream books.shop.svc.cluster.local:7001 of shop/web-0' },
      { port: 7101, what: 'the app of shop/books-0' },
      { port: 7201, what: 'the app of shop/books-0' },
      { port: 7102, what: 'the app of shop/books-legacy' },
      { port: 7202, what: 'the app of shop/books-legacy' },
    ]);
  });
});
