import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCENARIO_IDS } from './bench-options.js';
import { haproxyConfig, nginxBackendConfig, nginxProxyConfig } from './proxy-configs.js';
import { missingTools, requiredTools, SETUP_COMMAND } from './required-tools.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Fails under CI=true, skips with the setup command elsewhere, when a system tool is missing. */
function needTools(tools: readonly string[], skip: (note: string) => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return;
  const message = `missing ${missing.join(', ')}; install them with ${SETUP_COMMAND}`;
  if (process.env['CI'] === 'true') throw new Error(message);
  process.stderr.write(`@weft/bench e2e skipped: ${message}\n`);
  skip(message);
}

/** Command lines of running processes that the harness could have left behind. */
function leftoverProcesses(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '';
      }
    })
    .filter((cmdline) => /weft-bench-|open-loop-main\.js|tcp-throughput-main\.js|http-proxy-main\.js/.test(cmdline));
}

function cells(report: string, heading: string, label: string): string[] {
  const section = report.slice(report.indexOf(heading));
  const line = section.split('\n').find((candidate) => candidate.startsWith(`| ${label} `)) ?? '';
  return line.split('|').slice(1, -1).map((cell) => cell.trim());
}

const figure = (cell: string | undefined): number => Number((cell ?? '').replaceAll(',', ''));

describe('npm run bench -- --quick (direct and nginx)', () => {
  it('measures every scenario, writes the report and leaves no process behind', { timeout: 90_000 }, (context) => {
    needTools(requiredTools({ contenders: ['direct', 'nginx'], scenarios: SCENARIO_IDS, pin: true }), (note) => context.skip(note));
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'apps/bench/tsconfig.lib.json'], { cwd: repoRoot });
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-e2e-'));
    try {
      const out = join(dir, 'benchmarks.md');
      const run = spawnSync(process.execPath, ['apps/bench/dist/main.js', '--quick', '--contenders', 'direct,nginx', '--out', out], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain('### Goals');
      const report = readFileSync(out, 'utf8');
      expect(report).not.toMatch(/failed/);
      for (const label of ['direct', 'nginx']) {
        expect(figure(cells(report, '### HTTP/1.1 keep-alive max RPS', label)[1])).toBeGreaterThan(1_000);
        expect(figure(cells(report, '### Latency at a fixed 1,000 RPS (open loop)', label)[3])).toBeGreaterThan(0);
        expect(figure(cells(report, '### Latency at a fixed 1,000 RPS (hey)', label)[7])).toBeGreaterThan(500);
        expect(figure(cells(report, '### HTTP/2 cleartext', label)[1])).toBeGreaterThan(1_000);
      }
      expect(figure(cells(report, '### Opaque TCP throughput', 'direct')[1])).toBeGreaterThan(0);
      // Ratios to direct are computed; there is no HAProxy column to compare with in this run.
      expect(cells(report, '### HTTP/1.1 keep-alive max RPS', 'nginx').slice(3, 5)).toEqual([expect.stringMatching(/^\d+\.\d\dx$/), '—']);
      expect(figure(cells(report, '### Proxy memory and CPU', 'nginx')[1])).toBeGreaterThan(1);
      expect(cells(report, '### HTTP/1.1 keep-alive max RPS', 'Weft')[1]).toBe('not measured');
      expect(report).toContain('taskset -c 1 nginx');
      expect(leftoverProcesses()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run bench -- --quick (direct and the built-in Weft)', () => {
  it('starts the built proxy in every mode and measures it without failures', { timeout: 180_000 }, (context) => {
    const scenarios = ['h1-max', 'h1-latency', 'h2c-max', 'tcp-throughput'] as const;
    needTools(requiredTools({ contenders: ['direct', 'weft'], scenarios, pin: true }), (note) => context.skip(note));
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-b', 'apps/bench/tsconfig.lib.json', 'apps/proxy/tsconfig.lib.json'], { cwd: repoRoot });
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-e2e-'));
    try {
      const out = join(dir, 'benchmarks.md');
      const run = spawnSync(
        process.execPath,
        ['apps/bench/dist/main.js', '--quick', '--contenders', 'direct,weft', '--scenarios', scenarios.join(','), '--weft-node-flags', '--max-old-space-size=256', '--out', out],
        { cwd: repoRoot, encoding: 'utf8', timeout: 150_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const report = readFileSync(out, 'utf8');
      expect(report).not.toMatch(/failed/);
      expect(figure(cells(report, '### HTTP/1.1 keep-alive max RPS', 'Weft')[1])).toBeGreaterThan(100);
      expect(figure(cells(report, '### Latency at a fixed 1,000 RPS (open loop)', 'Weft')[1])).toBeGreaterThan(0);
      expect(figure(cells(report, '### HTTP/2 cleartext', 'Weft')[1])).toBeGreaterThan(100);
      expect(figure(cells(report, '### Opaque TCP throughput', 'Weft')[1])).toBeGreaterThan(0);
      expect(figure(cells(report, '### Proxy memory and CPU', 'Weft')[1])).toBeGreaterThan(10);
      // The proxy's environment is in the report, and the command line carries it, the launcher and the extra Node flags.
      expect(report).toContain('WEFT_PROXY_UPSTREAMS=bench=bench.default.svc.cluster.local:80@');
      // The proxy ran as its image ships it: the bundle staged for the run, through the same launcher.
      expect(report).toMatch(/WEFT_PROXY_MAIN=\S+\/weft-proxy-bundle\/proxy\/dist\/main\.js /);
      expect(report).toMatch(/WEFT_PROXY_OPAQUE_PORTS=\d+/);
      expect(report).toMatch(/taskset -c 1 env WEFT_PROXY_UPSTREAMS=\S+ .* WEFT_NODE=\S+ WEFT_PROXY_NODE_FLAGS=--max-old-space-size=256 \S*apps\/proxy\/bin\/weft-proxy/);
      expect(leftoverProcesses()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generated configs', () => {
  it('are accepted by haproxy -c in http1, h2c and tcp mode', (context) => {
    needTools(['haproxy'], (note) => context.skip(note));
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-cfg-'));
    try {
      for (const mode of ['http1', 'h2c', 'tcp'] as const) {
        const file = join(dir, `${mode}.cfg`);
        writeFileSync(file, haproxyConfig(4100, mode, 4200));
        expect(() => execFileSync('haproxy', ['-c', '-f', file], { stdio: 'pipe' }), mode).not.toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are accepted by nginx -t for the backend and the proxy in http1 and h2c mode', (context) => {
    needTools(['nginx'], (note) => context.skip(note));
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-cfg-'));
    try {
      const configs = { backend: nginxBackendConfig(dir, { http1: 4200, h2c: 4201 }), http1: nginxProxyConfig(dir, 4100, 'http1', 4200), h2c: nginxProxyConfig(dir, 4100, 'h2c', 4200) };
      for (const [name, text] of Object.entries(configs)) {
        const file = join(dir, `${name}.conf`);
        writeFileSync(file, text);
        expect(() => execFileSync('nginx', ['-t', '-e', 'stderr', '-p', dir, '-c', file], { stdio: 'pipe' }), name).not.toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
