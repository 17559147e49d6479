import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingTools, requiredTools } from './required-tools.js';

describe('requiredTools', () => {
  it('asks for what the chosen scenarios and contenders start', () => {
    expect(requiredTools({ contenders: ['direct', 'nginx'], scenarios: ['h1-max', 'h1-latency'], pin: true }).sort()).toEqual(['nginx', 'taskset', 'wrk']);
    expect(requiredTools({ contenders: ['direct', 'haproxy'], scenarios: ['h1-hey', 'h2c-max'], pin: false }).sort()).toEqual(['h2load', 'haproxy', 'hey', 'nginx']);
  });
});

describe('missingTools', () => {
  it('finds executables on PATH and reports the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-path-'));
    try {
      writeFileSync(join(dir, 'wrk'), '#!/bin/sh\n');
      chmodSync(join(dir, 'wrk'), 0o755);
      writeFileSync(join(dir, 'hey'), 'not executable');
      expect(missingTools(['wrk', 'hey', 'no-such-tool-here'], dir)).toEqual(['hey', 'no-such-tool-here']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
