import { describe, expect, it } from 'vitest';
import { fixtureText } from './fixture-text.js';
import { parseCpuTicks, parseRssAnonKb, parseVmRssKb, processTree, sampleProcessTree, summarizeSamples } from './process-stats.js';

describe('/proc parsing', () => {
  it('reads VmRSS from a real /proc/<pid>/status', () => {
    expect(parseVmRssKb(fixtureText('proc-status.txt'))).toBe(1768);
    expect(parseVmRssKb('Name:\tzombie\n')).toBeUndefined();
  });

  it('reads RssAnon, the private part of RSS, from a real /proc/<pid>/status', () => {
    expect(parseRssAnonKb(fixtureText('proc-status.txt'))).toBe(116);
    expect(parseRssAnonKb('Name:\tzombie\n')).toBeUndefined();
  });

  it('adds utime and stime from a real /proc/<pid>/stat', () => {
    expect(parseCpuTicks(fixtureText('proc-stat.txt'))).toBe(50);
  });

  it('counts fields after the last parenthesis, so a command name with spaces and parentheses does not shift them', () => {
    const stat = '42 (we ird) (name) S 1 42 42 0 -1 4194304 10 0 0 0 7 5 0 0 20 0 1 0 100 1000 10';
    expect(parseCpuTicks(stat)).toBe(12);
  });
});

describe('summarizeSamples', () => {
  it('takes the peak RSS and the mean CPU cores between the first and last sample', () => {
    const profile = summarizeSamples(
      [
        { atMs: 0, rssKb: 10_240, anonKb: 2_048, cpuTicks: 100 },
        { atMs: 1_000, rssKb: 20_480, anonKb: 4_096, cpuTicks: 150 },
        { atMs: 2_000, rssKb: 15_360, anonKb: 6_144, cpuTicks: 200 },
      ],
      100,
    );
    expect(profile).toEqual({ maxRssMb: 20, maxAnonMb: 6, cpuCores: 0.5 });
  });

  it('has no figures without samples', () => {
    expect(summarizeSamples([], 100)).toEqual({ maxRssMb: undefined, maxAnonMb: undefined, cpuCores: undefined });
  });
});

describe('sampleProcessTree', () => {
  it('reads this very process', () => {
    expect(processTree(process.pid)[0]).toBe(process.pid);
    const sample = sampleProcessTree(process.pid);
    expect(sample?.rssKb).toBeGreaterThan(1_000);
    expect(sample?.anonKb).toBeGreaterThan(0);
    expect(sample?.anonKb).toBeLessThan(sample?.rssKb ?? 0);
  });

  it('is undefined for a process that does not exist', () => {
    expect(sampleProcessTree(2 ** 22 + 12_345)).toBeUndefined();
  });
});
