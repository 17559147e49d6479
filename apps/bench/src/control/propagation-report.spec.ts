import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../bench-options.js';
import { type BenchReportInput, renderBenchReport, renderBenchTables } from '../bench-report.js';
import type { BenchResults, Metrics, RunOutcome } from '../bench-results.js';
import { LatencyHistogram } from '../latency-histogram.js';
import { propagationVerdict, renderPropagationSections } from './propagation-report.js';

const HEADING = '### Control plane: endpoint change reaching 100 subscribed proxies';

function run(metrics: Metrics, delaysMs: number[] = [], notes: string[] = []): RunOutcome {
  const histogram = new LatencyHistogram();
  for (const delay of delaysMs) histogram.record(delay * 1_000);
  return { ok: true, metrics, notes, histogram: histogram.toData() };
}

const good: BenchResults = {
  'endpoint-propagation': {
    'weft-control-file': [
      run({ p50Ms: 110, p90Ms: 120, p99Ms: 150, maxMs: 170, firstMs: 104, firstMaxMs: 140, spreadMs: 30, pairs: 2_000, missed: 0, controlCpuSeconds: 1.25 }, [110, 150]),
      { ok: false, error: 'weft-control exited before it was ready' },
      run({ p50Ms: 112, p90Ms: 125, p99Ms: 160, maxMs: 190, firstMs: 106, firstMaxMs: 150, spreadMs: 34, pairs: 2_000, missed: 0, controlCpuSeconds: 1.35 }, [112, 190], ['the control plane counted 21 applied edits of the mesh file for the 22 written']),
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
    results: good,
    machine: [['cores (nproc)', '2']],
    pinning: 'taskset',
    commands: [],
    propagationCommands: [
      'taskset -c 1 node apps/control/dist/main.js --grpc-addr 127.0.0.1:4100 --orchestrator file --mesh-file /tmp/x/mesh.yaml',
      'taskset -c 0 node apps/bench/dist/control/endpoint-propagation-main.js --addr 127.0.0.1:4100 --subscribers 100',
    ],
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

describe('renderPropagationSections', () => {
  it('states the goal and a verdict on the median p99 over runs', () => {
    const text = renderPropagationSections(input()).join('\n\n');
    expect(row(text, HEADING, 'endpoint change reaching 100 subscribed proxies, p99').slice(1)).toEqual(['<= 200 ms', '155.0 ms', 'met']);
  });

  it('lists the percentiles, each run, the pooled p99 and the split between first subscriber and spread, with run notes and errors', () => {
    const text = renderPropagationSections(input()).join('\n\n');
    const cells = row(text, HEADING, 'weft-control, file orchestrator');
    expect(cells.slice(1, 5)).toEqual(['111.0', '122.5', '155.0', '180.0']);
    expect(cells[5]).toBe('150.0 / failed / 160.0');
    expect(Number(cells[6])).toBeCloseTo(190, -1);
    expect(cells.slice(7)).toEqual(['105.0', '145.0', '32.0', '2,000', '0', '1.30']);
    expect(text).toContain('- weft-control, file orchestrator, run 2 failed: weft-control exited before it was ready');
    expect(text).toContain('- weft-control, file orchestrator, run 3: the control plane counted 21 applied edits');
  });

  it('says what the delay holds, with the file watch timings, and shows the commands', () => {
    const text = renderPropagationSections(input()).join('\n\n');
    expect(text).toContain('**100 ms debounce**');
    expect(text).toContain('a poll of the file\'s metadata every\n1,000 ms');
    expect(text).toContain('leaves a debounce already under way alone');
    expect(text).toContain('300 ms settle');
    expect(text).toContain('20 measured ones, 1,000 ms apart on average (each write shifted by up to 1,000 ms');
    expect(text).toMatch(/```\ntaskset -c 1 node apps\/control\/dist\/main\.js .*--orchestrator file --mesh-file \S+\ntaskset -c 0 node apps\/bench\/dist\/control\/endpoint-propagation-main\.js/);
  });

  it('fails the goal when a change never reached a subscriber, and on a p99 over 200 ms', () => {
    const missed: BenchResults = { 'endpoint-propagation': { 'weft-control-file': [run({ p99Ms: 150, missed: 3 })] } };
    expect(propagationVerdict({ results: missed })).toBe('not met (3 updates never arrived)');
    const slow: BenchResults = { 'endpoint-propagation': { 'weft-control-file': [run({ p99Ms: 201, missed: 0 })] } };
    expect(propagationVerdict({ results: slow })).toBe('not met');
    const failed: BenchResults = { 'endpoint-propagation': { 'weft-control-file': [{ ok: false, error: 'no control plane' }] } };
    expect(propagationVerdict({ results: failed })).toBe('—');
  });

  it('is left out when the scenario did not run, and is part of the tables and the report when it did', () => {
    expect(renderPropagationSections(input({ results: {} }))).toEqual([]);
    expect(renderBenchTables(input())).toContain(HEADING);
    expect(renderBenchReport(input())).toContain(HEADING);
    expect(renderBenchTables(input({ results: {} }))).not.toContain(HEADING);
  });

  it('says a --quick run only shows that the scenario works', () => {
    const quick = parseBenchOptions(['--quick']);
    if (!quick.ok) throw quick.error;
    const text = renderPropagationSections(input({ options: quick.value })).join('\n\n');
    expect(text).toContain('5 measured ones');
    expect(text).toContain('This was a `--quick` run');
  });
});
