import { describe, expect, it } from 'vitest';
import { planOf } from './mesh-plan.spec-helper.js';
import { assignPorts } from './port-assignment.js';
import { shortPath, startupSummary } from './startup-summary.js';

describe('startupSummary', () => {
  it('says where the control plane and each app, proxy and upstream listen, their logs, and the entry points', () => {
    const plan = planOf();
    const ports = assignPorts(plan, Array.from({ length: 20 }, (_, i) => 40_000 + i), 8086);
    const logs = {
      control: '/srv/mesh/.weft/logs/control-plane.log',
      apps: new Map(plan.instances.map((instance) => [instance.key, `/srv/mesh/.weft/logs/${instance.name}.app.log`])),
      proxies: new Map(plan.instances.map((instance) => [instance.key, `/srv/mesh/.weft/logs/${instance.name}.proxy.log`])),
    };
    const pids = { control: 100, apps: new Map([['shop/web-0', 101]]), proxies: new Map([['shop/web-0', 102]]) };
    expect(startupSummary({ plan, ports, logs, pids, cwd: '/srv/mesh' })).toEqual([
      'control plane   gRPC 127.0.0.1:8086   admin http://127.0.0.1:40000   log .weft/logs/control-plane.log   pid 100',
      'shop/web-0',
      '  app       127.0.0.1:7001   log .weft/logs/web-0.app.log   pid 101',
      '  proxy     inbound 127.0.0.1:4301   admin http://127.0.0.1:40002   log .weft/logs/web-0.proxy.log   pid 102',
      '  upstream  BOOKS_ADDR=127.0.0.1:40001 -> books.shop.svc.cluster.local:7000',
      '  upstream  BOOKS_ADMIN_ADDR=127.0.0.1:5001 -> books.shop.svc.cluster.local:7001',
      'shop/books-0',
      '  app       127.0.0.1:7101   log .weft/logs/books-0.app.log',
      '  proxy     inbound 127.0.0.1:40005   admin http://127.0.0.1:40006   log .weft/logs/books-0.proxy.log',
      'shop/books-legacy (not meshed)',
      '  app       127.0.0.1:7102   log .weft/logs/books-legacy.app.log',
      '',
      'Entry points (through the proxy of the instance named):',
      '  books.shop.svc.cluster.local:7000  127.0.0.1:40001   (grpc, via shop/web-0)',
      '  books.shop.svc.cluster.local:7001  curl http://127.0.0.1:5001/   (detect, via shop/web-0)',
    ]);
  });
});

describe('shortPath', () => {
  it('shows paths inside the folder relative to it, others as they are', () => {
    expect(shortPath('/srv/mesh/.weft/ca.crt', '/srv/mesh')).toBe('.weft/ca.crt');
    expect(shortPath('/tmp/weft/ca.crt', '/srv/mesh')).toBe('/tmp/weft/ca.crt');
  });
});
