import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureCaIssuance, parseIssuanceReport } from './cert-issuance.js';
import { createMeshIdentityMaterial } from './mesh-identity-material.js';

const report = { path: 'x509-ca', issued: 1_420, failed: 0, seconds: 1.0004, cpuSeconds: 0.46, warmupIssued: 50, concurrency: 4 };

describe('parseIssuanceReport', () => {
  it('reads the helper line of either path', () => {
    const parsed = parseIssuanceReport(JSON.stringify(report));
    expect(parsed.ok && parsed.value).toEqual(report);
    const grpc = parseIssuanceReport(JSON.stringify({ ...report, path: 'control-grpc', cpuSeconds: undefined, firstError: 'rate-limited' }));
    expect(grpc.ok && grpc.value.firstError).toBe('rate-limited');
  });

  it.each([
    ['not JSON', 'Error: boom', /is not JSON/],
    ['an unknown path', JSON.stringify({ ...report, path: 'openssl' }), /lacks a path among x509-ca, control-grpc/],
    ['a missing count', JSON.stringify({ ...report, issued: undefined }), /"issued" is not a number/],
    ['a negative time', JSON.stringify({ ...report, seconds: -1 }), /"seconds" is not a number of 0 or more/],
    ['a CPU time that is not a number', JSON.stringify({ ...report, cpuSeconds: 'fast' }), /"cpuSeconds"/],
  ])('refuses %s, quoting the line', (_case, text, reason) => {
    const parsed = parseIssuanceReport(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.input).toBe(text);
    expect(parsed.error.reason).toMatch(reason);
  });
});

describe('measureCaIssuance', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-bench-issuance-'));
    await createMeshIdentityMaterial(join(dir, 'identity'));
  }, 30_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues real leaves from the folder the control plane reads, stopping at its count', { timeout: 30_000 }, async () => {
    const measured = await measureCaIssuance({ identityDir: join(dir, 'identity'), maxCount: 12, durationMs: 20_000, warmupCount: 3, concurrency: 2, csrCount: 4 });
    expect(measured).toMatchObject({ path: 'x509-ca', issued: 12, failed: 0, warmupIssued: 3, concurrency: 2 });
    expect(measured.seconds).toBeGreaterThan(0);
    expect(measured.cpuSeconds).toBeGreaterThan(0);
    expect(parseIssuanceReport(JSON.stringify(measured)).ok).toBe(true);
  });
});
