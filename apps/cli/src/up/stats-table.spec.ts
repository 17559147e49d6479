import { describe, expect, it } from 'vitest';
import type { ServiceFigures } from './inbound-stats.js';
import { latency, renderStatsLines, renderStatsTable, type ServiceRow } from './stats-table.js';

const busy: ServiceFigures = { requestsPerSecond: 20.04, successRate: 0.985, p50Ms: 3.21, p95Ms: 250, p99Ms: 1_234, openConnections: 4, mtlsShare: 1 };
const none: ServiceFigures = {
  requestsPerSecond: undefined,
  successRate: undefined,
  p50Ms: undefined,
  p95Ms: undefined,
  p99Ms: undefined,
  openConnections: undefined,
  mtlsShare: undefined,
};
const rows: ServiceRow[] = [
  { service: 'demo/catalog', figures: busy, instances: [['catalog-0', 'up'], ['catalog-slow', 'restarting (app, 2 restarts)']] },
  { service: 'demo/web', figures: none, instances: [['web-0', 'proxy not ready']] },
];

describe('renderStatsTable', () => {
  it('aligns a header and one line per service, numbers to the right, unknown figures as "-"', () => {
    expect(renderStatsTable(rows)).toEqual([
      'SERVICE       SUCCESS   RPS    P50    P95    P99  TCP  MTLS  INSTANCES',
      'demo/catalog   98.50%  20.0  3.2ms  250ms  1.23s    4  100%  catalog-0 up, catalog-slow restarting (app, 2 restarts)',
      'demo/web            -     -      -      -      -    -     -  web-0 proxy not ready',
    ]);
  });
});

describe('renderStatsLines', () => {
  it('prints one key=value line per service, stamped with the time', () => {
    expect(renderStatsLines(rows, '12:00:01')).toEqual([
      '[12:00:01] demo/catalog success=98.50% rps=20.0 p50=3.2ms p95=250ms p99=1.23s tcp=4 mtls=100% instances: catalog-0 up, catalog-slow restarting (app, 2 restarts)',
      '[12:00:01] demo/web success=- rps=- p50=- p95=- p99=- tcp=- mtls=- instances: web-0 proxy not ready',
    ]);
  });
});

describe('latency', () => {
  it.each([
    [0.42, '0.4ms'],
    [9.96, '10.0ms'],
    [12.6, '13ms'],
    [999, '999ms'],
    [1_000, '1.00s'],
    [undefined, '-'],
  ])('shows %s ms as %s', (ms, shown) => {
    expect(latency(ms)).toBe(shown);
  });
});
