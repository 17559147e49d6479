import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../bench-options.js';
import { type BenchReportInput, renderBenchReport, renderBenchTables } from '../bench-report.js';
import type { BenchResults, Metrics, RunOutcome } from '../bench-results.js';
import { goalVerdict, renderIdentitySections } from './identity-report.js';

const run = (metrics: Metrics, notes: string[] = []): RunOutcome => ({ ok: true, metrics, notes });

const results: BenchResults = {
  'cert-issuance': {
    'x509-ca': [run({ perCpuSecond: 3_000, perSecond: 2_900, cpuSeconds: 9.8, issued: 29_000, failed: 0 }), run({ perCpuSecond: 3_200, perSecond: 3_000, cpuSeconds: 9.9, issued: 30_000, failed: 0 })],
    'control-grpc': [run({ perCpuSecond: 900, perSecond: 700, cpuSeconds: 7.7, issued: 7_000, failed: 0 }), { ok: false, error: 'weft-control exited before it was ready' }],
  },
  'mtls-handshakes': {
    'weft-inbound': [run({ perSecond: 800, perCpuSecond: 1_000, cpuCores: 0.8, handshakeP50Ms: 4, handshakeP99Ms: 12, failed: 2, rssMb: 80, meshedConnections: 8_100 }, ['2 sessions failed, the first: ECONNRESET'])],
  },
  'mtls-two-hop-latency': {
    direct: [run({ p50Ms: 0.5, p99Ms: 1.5, achievedRps: 1_000 })],
    'weft-two-hop': [run({ p50Ms: 1.2, p99Ms: 3.0, achievedRps: 1_000, cpuCores: 0.12, serverCpuCores: 0.1, meshedConnections: 16 })],
  },
  'mtls-two-hop-tcp': {
    direct: [run({ gbps: 8 }), run({ gbps: 6 })],
    'weft-two-hop': [
      run({ gbps: 2, cpuCores: 0.5, serverCpuCores: 0.45, rssLoadMb: 90, serverRssLoadMb: 95, meshedConnections: 2 }),
      run({ gbps: 1.5, cpuCores: 0.52, serverCpuCores: 0.47, rssLoadMb: 92, serverRssLoadMb: 97, meshedConnections: 2 }, ['the two proxies together used 0.99 of the one core they share: the figures include waiting for it']),
    ],
  },
};

function input(overrides: Partial<BenchReportInput> = {}): BenchReportInput {
  const options = parseBenchOptions([]);
  if (!options.ok) throw options.error;
  return {
    generatedAt: '2026-11-29 00:00 UTC',
    options: options.value,
    contenders: [{ name: 'direct', label: 'direct', modes: ['http1'], setup: 'no proxy' }],
    placeholders: [],
    results,
    machine: [['cores (nproc)', '2']],
    pinning: 'taskset',
    commands: [],
    identityCommands: { 'cert-issuance': ['taskset -c 1 node apps/bench/dist/identity/cert-issuance-main.js ca --max-count 200000'] },
    configs: [],
    ...overrides,
  };
}

/** The cells of the table row that starts with `label`, in the section titled `heading`. */
function row(text: string, heading: string, label: string): string[] {
  const section = text.slice(text.indexOf(heading));
  const line = section.split('\n').find((candidate) => candidate.startsWith(`| ${label} `));
  return (line ?? '').split('|').slice(1, -1).map((cell) => cell.trim());
}

describe('renderIdentitySections', () => {
  it('fills the identity goals with the per-core issuance rate, handshakes and the two-hop p99 over direct, each with a verdict', () => {
    const text = renderIdentitySections(input()).join('\n\n');
    expect(row(text, '### Identity and mTLS: goals', 'certificates issued per second per core (verify CSR + sign), X.509 CA').slice(1)).toEqual([
      '>= 1,000',
      '3,100 per CPU-second',
      'met',
    ]);
    expect(row(text, '### Identity and mTLS: goals', 'two hops with mTLS between proxies at 1,000 RPS, p99 over direct').slice(1)).toEqual([
      '<= +2 ms',
      '+1.500 ms',
      'met',
    ]);
    expect(row(text, '### Identity and mTLS: goals', 'full TLS 1.3 mutual handshakes per second on one proxy inbound port')[2]).toBe('800/s; 1,000 per proxy CPU-second');
  });

  it('lists each issuance path with every run, keeping a failed run and its error visible', () => {
    const text = renderIdentitySections(input()).join('\n\n');
    expect(row(text, '### Certificate issuance', 'X.509 CA (certify in-process)').slice(1, 4)).toEqual(['3,100', '3,000 / 3,200', '2,950']);
    expect(row(text, '### Certificate issuance', 'control plane Certify over gRPC').slice(1, 3)).toEqual(['900', '900 / failed']);
    expect(text).toContain('- control plane Certify over gRPC, run 2 failed: weft-control exited before it was ready');
  });

  it('shows the handshake figures with the proxy CPU, and the run notes', () => {
    const text = renderIdentitySections(input()).join('\n\n');
    expect(row(text, '### Full mTLS handshakes', 'Weft inbound port (mTLS)').slice(1)).toEqual(['800', '800', '1,000', '0.80', '4.00', '12.00', '2', '80.0']);
    expect(text).toContain('- Weft inbound port (mTLS), run 1: 2 sessions failed, the first: ECONNRESET');
  });

  it('sets the two-hop path against direct, with both proxies\' CPU and the mTLS connections the server counted', () => {
    const text = renderIdentitySections(input()).join('\n\n');
    const twoHop = row(text, '### Two hops with mTLS', 'Weft, two hops with mTLS');
    expect(twoHop.slice(6, 8)).toEqual(['+0.700 ms', '+1.500 ms']);
    expect(twoHop.slice(10, 12)).toEqual(['0.120 / 0.100', '16']);
    expect(row(text, '### Two hops with mTLS', 'direct')[10]).toBe('no proxy');
  });

  it('sets opaque TCP through two hops against direct, with both proxies\' CPU and RSS, and the run notes', () => {
    const text = renderIdentitySections(input()).join('\n\n');
    expect(row(text, '### Identity and mTLS: goals', 'opaque TCP through two hops with mTLS, one connection, ratio to direct').slice(1)).toEqual([
      'none (reported)',
      '0.25x (1.75 Gbit/s)',
      'no goal',
    ]);
    const twoHop = row(text, '### Opaque TCP through two hops with mTLS', 'Weft, two hops with mTLS');
    expect(twoHop.slice(1)).toEqual(['1.75', '2.00 / 1.50', '0.25x', '0.51 / 0.46', '91.0 / 96.0', '2']);
    expect(row(text, '### Opaque TCP through two hops with mTLS', 'direct').slice(1)).toEqual(['7.00', '8.00 / 6.00', '1.00x', 'no proxy', 'no proxy', '—']);
    expect(text).toContain('- Weft, two hops with mTLS, run 2: the two proxies together used 0.99 of the one core they share');
  });

  it('says "not met" when a figure misses its goal', () => {
    const slow: BenchResults = {
      ...results,
      'cert-issuance': { 'x509-ca': [run({ perCpuSecond: 640 })] },
      'mtls-two-hop-latency': { direct: [run({ p99Ms: 1 })], 'weft-two-hop': [run({ p99Ms: 4.5 })] },
    };
    const text = renderIdentitySections(input({ results: slow })).join('\n\n');
    expect(row(text, '### Identity and mTLS: goals', 'certificates issued per second per core (verify CSR + sign), X.509 CA')[3]).toBe('not met');
    expect(row(text, '### Identity and mTLS: goals', 'two hops with mTLS between proxies at 1,000 RPS, p99 over direct').slice(2)).toEqual(['+3.500 ms', 'not met']);
  });

  it('shows the command lines a scenario started, and marks scenarios that did not run', () => {
    const only: BenchResults = { 'cert-issuance': results['cert-issuance'] ?? {} };
    const text = renderIdentitySections(input({ results: only })).join('\n\n');
    expect(text).toContain('taskset -c 1 node apps/bench/dist/identity/cert-issuance-main.js ca --max-count 200000');
    expect(row(text, '### Identity and mTLS: goals', 'two hops with mTLS between proxies at 1,000 RPS, p99 over direct').slice(2)).toEqual(['not run', 'not run']);
    expect(text).not.toContain('### Full mTLS handshakes');
    expect(text).not.toContain('### Two hops with mTLS');
    expect(text).not.toContain('### Opaque TCP through two hops');
    expect(row(text, '### Identity and mTLS: goals', 'opaque TCP through two hops with mTLS, one connection, ratio to direct').slice(2)).toEqual(['not run', 'no goal']);
  });

  it('warns that a --quick run shows only that the scenarios work', () => {
    const quick = parseBenchOptions(['--quick']);
    if (!quick.ok) throw quick.error;
    expect(renderIdentitySections(input({ options: quick.value }))[0]).toContain('This was a `--quick` run');
    expect(renderIdentitySections(input())[0]).not.toContain('--quick');
  });

  it('adds nothing to a report in which no identity scenario ran', () => {
    expect(renderIdentitySections(input({ results: {} }))).toEqual([]);
    expect(renderBenchTables(input({ results: {} }))).not.toContain('Identity and mTLS');
  });

  it('sets the HAProxy pair beside Weft when it ran: its rows, its added p99 next to the goal\'s figure, no mTLS count of its own', () => {
    const withHaproxy: BenchResults = {
      ...results,
      'mtls-two-hop-latency': { ...results['mtls-two-hop-latency'], 'haproxy-two-hop': [run({ p50Ms: 0.8, p99Ms: 2.25, achievedRps: 1_000, cpuCores: 0.05, serverCpuCores: 0.04 })] },
      'mtls-two-hop-tcp': { ...results['mtls-two-hop-tcp'], 'haproxy-two-hop': [run({ gbps: 3.5, cpuCores: 0.3, serverCpuCores: 0.35, rssLoadMb: 15, serverRssLoadMb: 16 })] },
    };
    const text = renderIdentitySections(input({ results: withHaproxy })).join('\n\n');
    expect(row(text, '### Identity and mTLS: goals', 'two hops with mTLS between proxies at 1,000 RPS, p99 over direct').slice(2)).toEqual([
      '+1.500 ms (HAProxy pair +0.750 ms)',
      'met',
    ]);
    const latency = row(text, '### Two hops with mTLS at a fixed', 'HAProxy, two hops with mTLS');
    expect([latency[3], latency[7], latency[10], latency[11]]).toEqual(['2.250', '+0.750 ms', '0.050 / 0.040', '—']);
    expect(row(text, '### Opaque TCP through two hops', 'HAProxy, two hops with mTLS').slice(1, 5)).toEqual(['3.50', '3.50', '0.50x', '0.30 / 0.35']);
    expect(row(text, '### Opaque TCP through two hops', 'Weft, two hops with mTLS')[3]).toBe('0.25x');
  });

  it('leaves the HAProxy rows out when it did not run', () => {
    const text = renderIdentitySections(input()).join('\n\n');
    expect(text).not.toContain('| HAProxy, two hops with mTLS');
    expect(row(text, '### Identity and mTLS: goals', 'two hops with mTLS between proxies at 1,000 RPS, p99 over direct')[2]).toBe('+1.500 ms');
  });

  it('is part of the tables and of docs/benchmarks.md', () => {
    expect(renderBenchTables(input())).toContain('### Identity and mTLS: goals');
    expect(renderBenchReport(input())).toContain('### Two hops with mTLS at a fixed 1,000 RPS');
  });
});

describe('goalVerdict', () => {
  it('compares in the goal\'s direction, and has no verdict without a figure', () => {
    expect(goalVerdict(1_000, 1_000, 'higher')).toBe('met');
    expect(goalVerdict(999, 1_000, 'higher')).toBe('not met');
    expect(goalVerdict(2, 2, 'lower')).toBe('met');
    expect(goalVerdict(2.01, 2, 'lower')).toBe('not met');
    expect(goalVerdict(undefined, 2, 'lower')).toBe('—');
    expect(goalVerdict(Number.NaN, 2, 'lower')).toBe('—');
  });
});
