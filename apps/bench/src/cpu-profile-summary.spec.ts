import { describe, expect, it } from 'vitest';
import { type CpuProfile, moduleOf, readCpuProfile, renderCpuProfileSummary, summarizeCpuProfiles } from './cpu-profile-summary.js';
import { InvalidToolOutputError } from './tool-output-error.js';

const frame = (id: number, functionName: string, url = '', lineNumber = 0) => ({ id, callFrame: { functionName, url, lineNumber } });

/** idle 50 ms, writev 20 ms, two samples of record (10 + 5 ms), undici 10 ms, GC 5 ms. */
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)'),
    frame(2, '(idle)'),
    frame(3, 'writev'),
    frame(4, 'record', 'file:///repo/adapters/prometheus/dist/series-family.js', 50),
    frame(5, '_resume', 'file:///repo/node_modules/undici/lib/dispatcher/client.js', 588),
    frame(6, '(garbage collector)'),
  ],
  samples: [2, 3, 4, 5, 4, 6],
  timeDeltas: [50_000, 20_000, 10_000, 10_000, 5_000, 5_000],
};

describe('summarizeCpuProfiles', () => {
  it('adds up self time per function and per module, idle apart', () => {
    const summary = summarizeCpuProfiles([profile], '/repo');
    expect(summary.totalMs).toBe(100);
    expect(summary.idleMs).toBe(50);
    expect(summary.functions.map((f) => [f.name, f.ms])).toEqual([
      ['(idle)', 50],
      ['writev (native)', 20],
      ['record adapters/prometheus/dist/series-family.js:51', 15],
      ['_resume undici:589', 10],
      ['(garbage collector)', 5],
    ]);
    expect(summary.modules.find((m) => m.module === 'adapters/prometheus/dist/series-family.js')?.ms).toBe(15);
  });

  it('sums several profiles, e.g. one per benchmark run', () => {
    expect(summarizeCpuProfiles([profile, profile], '/repo').functions[1]).toMatchObject({ name: 'writev (native)', ms: 40 });
  });

  it('renders shares of all and of busy time', () => {
    const text = renderCpuProfileSummary(summarizeCpuProfiles([profile], '/repo'), 3);
    expect(text).toContain('idle (waiting in epoll) 50.0 %');
    expect(text).toMatch(/\| writev \(native\) +\| +20 \| +20\.0 % \| +40\.0 % \|/);
    expect(text).not.toContain('_resume');
  });
});

describe('moduleOf', () => {
  it.each([
    ['node:internal/streams/readable', 'read', 'node:internal/streams/readable'],
    ['file:///repo/node_modules/@grpc/grpc-js/build/src/server.js', 'f', '@grpc/grpc-js'],
    ['file:///repo/apps/proxy/dist/http/proxy-exchange.js', 'f', 'apps/proxy/dist/http/proxy-exchange.js'],
    ['', 'writev', '(native)'],
    ['', '(garbage collector)', '(garbage collector)'],
  ])('%s', (url, name, expected) => expect(moduleOf(url, name, '/repo')).toBe(expected));
});

describe('readCpuProfile', () => {
  it('refuses what is not a CPU profile, naming the file', () => {
    const result = readCpuProfile({ nodes: [] }, 'heap.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidToolOutputError);
    expect(result.error.input).toBe('heap.json');
    expect(result.error.message).toContain('node --cpu-prof');
  });
});
