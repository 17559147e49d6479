import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missingTools, requiredTools, SETUP_COMMAND } from '../required-tools.js';
import { IDENTITY_SCENARIO_IDS } from './identity-scenario-ids.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Command lines of running processes that the identity scenarios could have left behind. */
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
    .filter((cmdline) => /weft-bench-|cert-issuance-main\.js|mtls-handshake-main\.js/.test(cmdline));
}

function cells(report: string, heading: string, label: string): string[] {
  const section = report.slice(report.indexOf(heading));
  const line = section.split('\n').find((candidate) => candidate.startsWith(`| ${label} `)) ?? '';
  return line.split('|').slice(1, -1).map((cell) => cell.trim());
}

const figure = (cell: string | undefined): number => Number((cell ?? '').replaceAll(',', ''));

describe('npm run bench -- --quick --contenders weft,haproxy --scenarios cert-issuance,mtls-handshakes,mtls-two-hop-latency,mtls-two-hop-tcp', () => {
  it('issues certificates, handshakes with a certified proxy and measures two mTLS hops for HTTP and TCP, Weft and HAProxy, leaving nothing behind', { timeout: 240_000 }, (context) => {
    const missing = missingTools(requiredTools({ contenders: ['weft', 'haproxy'], scenarios: IDENTITY_SCENARIO_IDS, pin: true }));
    if (missing.length > 0) {
      const message = `missing ${missing.join(', ')}; install them with ${SETUP_COMMAND}`;
      if (process.env['CI'] === 'true') throw new Error(message);
      context.skip(message);
    }
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-b', 'apps/bench/tsconfig.lib.json', 'apps/proxy/tsconfig.lib.json', 'apps/control/tsconfig.lib.json'], { cwd: repoRoot });
    expect(existsSync(join(repoRoot, 'apps/control/dist/main.js'))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-identity-e2e-'));
    try {
      const out = join(dir, 'benchmarks.md');
      const run = spawnSync(process.execPath, ['apps/bench/dist/main.js', '--quick', '--contenders', 'weft,haproxy', '--scenarios', IDENTITY_SCENARIO_IDS.join(','), '--out', out], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 200_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const report = readFileSync(out, 'utf8');
      // A run that failed as a whole (a process that never got ready, a helper that crashed) is named "run N failed".
      expect(report, report).not.toMatch(/run \d+ failed/);
      expect(figure(cells(report, '### Certificate issuance', 'X.509 CA (certify in-process)')[1])).toBeGreaterThan(0);
      expect(figure(cells(report, '### Certificate issuance', 'control plane Certify over gRPC')[5])).toBeGreaterThan(0);
      const handshakes = cells(report, '### Full mTLS handshakes', 'Weft inbound port (mTLS)');
      expect(figure(handshakes[1])).toBeGreaterThan(0);
      expect(figure(handshakes[7])).toBe(0);
      const twoHop = cells(report, '### Two hops with mTLS', 'Weft, two hops with mTLS');
      expect(figure(twoHop[9])).toBeGreaterThan(0);
      // The server proxy counted mTLS connections from the client proxy's identity.
      expect(figure(twoHop[11])).toBeGreaterThan(0);
      const twoHopTcp = cells(report, '### Opaque TCP through two hops with mTLS', 'Weft, two hops with mTLS');
      expect(figure(twoHopTcp[1])).toBeGreaterThan(0);
      // The opaque sessions went over mTLS from the client proxy's identity too.
      expect(figure(twoHopTcp[6])).toBeGreaterThan(0);
      // The HAProxy pair carried the same loads over its own mTLS (its server side refuses a client without a certificate).
      expect(figure(cells(report, '### Two hops with mTLS', 'HAProxy, two hops with mTLS')[9])).toBeGreaterThan(0);
      expect(figure(cells(report, '### Opaque TCP through two hops with mTLS', 'HAProxy, two hops with mTLS')[1])).toBeGreaterThan(0);
      expect(report).toMatch(/bind 127\.0\.0\.1:\d+ ssl ssl-min-ver TLSv1\.3 ca-file \S+ca\.crt verify required crt \S+haproxy-server\.pem/);
      expect(report).toMatch(/node apps\/control\/dist\/main\.js .*--orchestrator file --mesh-file \S+mesh\.yaml/);
      expect(report).toContain('WEFT_PROXY_CONTROL_ADDR=127.0.0.1:');
      expect(report).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./); // no workload token on a command line or in a config
      expect(leftoverProcesses()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
