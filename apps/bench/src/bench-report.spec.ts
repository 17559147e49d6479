import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from './bench-options.js';
import { type BenchReportInput, keptNotes, NOT_MEASURED, NOTES_END, NOTES_START, relativeCommand, renderBenchReport, renderBenchTables, WEFT_NOT_MEASURED } from './bench-report.js';
import type { BenchResults, Metrics, RunOutcome } from './bench-results.js';
import { LatencyHistogram } from './latency-histogram.js';

const run = (metrics: Metrics, notes: string[] = []): RunOutcome => ({ ok: true, metrics, notes });
const h1 = ['http1'] as const;
const all = ['http1', 'h2c', 'tcp'] as const;

const results: BenchResults = {
  'h1-max': {
    direct: [run({ rps: 50_000 }), run({ rps: 52_000 }), run({ rps: 51_000 })],
    haproxy: [run({ rps: 20_000, rssMb: 15 }), { ok: false, error: 'could not start: port taken' }, run({ rps: 22_000, rssMb: 15 })],
    nginx: [run({ rps: 18_000 }), run({ rps: 19_000 }), run({ rps: 17_000 })],
    'http-proxy': [run({ rps: 5_000 }, ['12 requests failed (non-2xx or socket errors)']), run({ rps: 5_200 }), run({ rps: 4_800 })],
  },
  'h1-latency': {
    direct: [run({ p50Ms: 1.0, p99Ms: 3.0 })],
    haproxy: [run({ p50Ms: 1.2, p99Ms: 3.5, rssIdleMb: 14.2, rssLoadMb: 14.6 })],
    nginx: [run({ p50Ms: 1.3, p99Ms: 4.0, rssIdleMb: 12, rssLoadMb: 12.5 })],
    'http-proxy': [run({ p50Ms: 2.5, p99Ms: 9.0, rssIdleMb: 70, rssLoadMb: 81 })],
  },
  'h2c-max': {
    direct: [run({ rps: 40_000 })],
    haproxy: [run({ rps: 20_000 })],
    nginx: [run({ rps: 16_000 })],
  },
};

function input(overrides: Partial<BenchReportInput> = {}): BenchReportInput {
  const options = parseBenchOptions([]);
  if (!options.ok) throw options.error;
  return {
    generatedAt: '2026-11-29 00:00 UTC',
    options: options.value,
    contenders: [
      { name: 'direct', label: 'direct', modes: all, setup: 'no proxy' },
      { name: 'haproxy', label: 'HAProxy', modes: all, setup: 'nbthread 1' },
      { name: 'nginx', label: 'nginx', modes: ['http1', 'h2c'], setup: 'worker_processes 1' },
      { name: 'http-proxy', label: 'http-proxy', modes: h1, setup: 'node' },
    ],
    placeholders: [{ label: 'Weft', reason: WEFT_NOT_MEASURED }],
    results,
    machine: [['cores (nproc)', '2'], ['kernel', '6.1.0']],
    pinning: 'taskset: load on CPU 0, proxy on CPU 1',
    commands: ['taskset -c 0 wrk -t1 -c50 -d10s --latency http://127.0.0.1:4100/'],
    configs: [{ title: 'HAProxy (http1)', text: 'global\n  nbthread 1\n' }],
    ...overrides,
  };
}

/** The cells of the table row that starts with `label`, in the section titled `heading`. */
function row(text: string, heading: string, label: string): string[] {
  const section = text.slice(text.indexOf(heading));
  const line = section.split('\n').find((candidate) => candidate.startsWith(`| ${label} `));
  return (line ?? '').split('|').slice(1, -1).map((cell) => cell.trim());
}

describe('renderBenchTables', () => {
  it('reports max RPS as medians with every run, and ratios to direct and to HAProxy', () => {
    const text = renderBenchTables(input());
    expect(row(text, '### HTTP/1.1 keep-alive max RPS', 'nginx').slice(0, 5)).toEqual(['nginx', '18,000', '18,000 / 19,000 / 17,000', '0.35x', '0.86x']);
    expect(row(text, '### HTTP/1.1 keep-alive max RPS', 'direct').slice(3, 5)).toEqual(['1.00x', '2.43x']);
  });

  it('keeps a failed run visible instead of dropping it', () => {
    const text = renderBenchTables(input());
    expect(row(text, '### HTTP/1.1 keep-alive max RPS', 'HAProxy').slice(1, 3)).toEqual(['21,000', '20,000 / failed / 22,000']);
    expect(text).toContain('- HAProxy, run 2 failed: could not start: port taken');
    expect(text).toContain('- http-proxy, run 1: 12 requests failed (non-2xx or socket errors)');
  });

  it('fills the goals table with ratios to HAProxy and latency added over direct', () => {
    const text = renderBenchTables(input());
    expect(row(text, '### Goals', 'HTTP/1.1 keep-alive max RPS, ratio to HAProxy').slice(2)).toEqual(['1.00x', '0.86x', '0.24x', NOT_MEASURED]);
    expect(row(text, '### Goals', 'added latency at 1,000 RPS over direct, p50 / p99').slice(2, 5)).toEqual([
      '+0.200 ms / +0.500 ms',
      '+0.300 ms / +1.000 ms',
      '+1.500 ms / +6.000 ms',
    ]);
    expect(row(text, '### Goals', 'h2c max RPS, ratio to HAProxy (h2)').slice(2, 5)).toEqual(['1.00x', '0.80x', 'n/a']);
    expect(row(text, '### Goals', 'opaque TCP throughput, ratio to HAProxy (tcp)').slice(2, 5)).toEqual(['not run', 'not run', 'not run']);
    expect(row(text, '### Goals', 'proxy RSS idle / at 1,000 RPS').slice(2, 5)).toEqual(['14.2 / 14.6 MB', '12.0 / 12.5 MB', '70.0 / 81.0 MB']);
  });

  it('shows Weft in every table as not measured, with the reason, when a run leaves it out', () => {
    const text = renderBenchTables(input());
    expect(text).toContain(`Weft: ${WEFT_NOT_MEASURED}.`);
    expect(row(text, '### HTTP/1.1 keep-alive max RPS', 'Weft').slice(0, 2)).toEqual(['Weft', NOT_MEASURED]);
    expect(row(text, '### HTTP/2 cleartext', 'Weft').slice(0, 2)).toEqual(['Weft', NOT_MEASURED]);
  });

  it('gives a measured Weft its own row and goal column, with no placeholder', () => {
    const weftResults: BenchResults = {
      ...results,
      'h1-max': { ...results['h1-max'], weft: [run({ rps: 9_000, rssMb: 120 }), run({ rps: 11_000, rssMb: 125 }), run({ rps: 10_000, rssMb: 130 })] },
    };
    const contenders = [...input().contenders, { name: 'weft', label: 'Weft', modes: all, setup: 'the built proxy' }];
    const text = renderBenchTables(input({ contenders, placeholders: [], results: weftResults }));
    expect(row(text, '### HTTP/1.1 keep-alive max RPS', 'Weft').slice(0, 5)).toEqual(['Weft', '10,000', '9,000 / 11,000 / 10,000', '0.20x', '0.48x']);
    expect(row(text, '### Goals', 'HTTP/1.1 keep-alive max RPS, ratio to HAProxy').slice(2)).toEqual(['1.00x', '0.86x', '0.24x', '0.48x']);
    expect(text).not.toContain(NOT_MEASURED);
  });

  it('marks a contender without the scenario mode as n/a and leaves out scenarios that did not run', () => {
    const text = renderBenchTables(input());
    expect(row(text, '### HTTP/2 cleartext', 'http-proxy')[1]).toBe('n/a (no h2c mode)');
    expect(text).not.toContain('### Opaque TCP throughput');
    expect(text).not.toContain('(hey)');
  });

  it('pools latency histograms of all runs for the pooled p99', () => {
    const histogram = new LatencyHistogram();
    for (let value = 1; value <= 100; value += 1) histogram.record(value * 100);
    const pooledResults: BenchResults = { ...results, 'h1-latency': { direct: [{ ok: true, metrics: { p99Ms: 9.9 }, notes: [], histogram: histogram.toData() }] } };
    const text = renderBenchTables(input({ results: pooledResults }));
    // 99th of 100..10,000 us is 9,900 us; the bucket's highest value is within 1/64 above it.
    expect(Number(row(text, '### Latency at a fixed 1,000 RPS (open loop)', 'direct')[9])).toBeCloseTo(9.9, 0);
  });
});

describe('renderBenchReport', () => {
  it('writes the machine facts, pinning, the exact commands and the generated configs', () => {
    const text = renderBenchReport(input());
    expect(text.startsWith('# Benchmarks\n')).toBe(true);
    expect(text).toContain('| cores (nproc) | 2');
    expect(text).toContain('Pinning: taskset: load on CPU 0, proxy on CPU 1.');
    expect(text).toContain('taskset -c 0 wrk -t1 -c50 -d10s --latency http://127.0.0.1:4100/');
    expect(text).toContain('<details><summary>HAProxy (http1)</summary>');
    expect(text).toMatch(/^\| Weft +\| not measured in this run: weft was left out of --contenders +\|$/m);
    expect(text).toContain('--weft-node-flags');
  });
});

describe('keptNotes', () => {
  it('carries hand-written notes from the previous report into the new one, after the results', () => {
    const notes = `${NOTES_START}\n## Notes\n\nWeft is limited by its upstream client.\n${NOTES_END}`;
    const previous = `# Benchmarks\n\nold figures\n\n${notes}\n\n## How it was measured\n`;
    expect(keptNotes(previous)).toBe(notes);
    const text = renderBenchReport(input(), keptNotes(previous));
    expect(text).toContain('Weft is limited by its upstream client.');
    expect(text.indexOf('## Notes')).toBeGreaterThan(text.indexOf('### Goals'));
    expect(text.indexOf('## Notes')).toBeLessThan(text.indexOf('## How it was measured'));
  });

  it('keeps nothing from a report without notes, or with an unfinished notes block', () => {
    expect(keptNotes(undefined)).toBeUndefined();
    expect(keptNotes('# Benchmarks\n')).toBeUndefined();
    expect(keptNotes(`${NOTES_START}\nhalf`)).toBeUndefined();
    expect(renderBenchReport(input())).not.toContain(NOTES_START);
  });
});

describe('relativeCommand', () => {
  it('writes commands as typed from the repository root', () => {
    const command = 'taskset -c 0 /opt/node24/bin/node /work/main/apps/bench/dist/open-loop-main.js --rate 1000';
    expect(relativeCommand(command, '/opt/node24/bin/node', '/work/main')).toBe('taskset -c 0 node apps/bench/dist/open-loop-main.js --rate 1000');
  });
});
