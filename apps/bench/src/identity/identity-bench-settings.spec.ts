import { PEER_CERTIFY_RATE_LIMIT } from '@weft/adapter-grpc';
import { describe, expect, it } from 'vitest';
import { parseBenchOptions, SCENARIO_IDS } from '../bench-options.js';
import { identityBenchSettings } from './identity-bench-settings.js';
import { IDENTITY_SCENARIO_IDS } from './identity-scenario-ids.js';

describe('identity scenarios in the bench options', () => {
  it('are chosen by default, after the proxy scenarios, and one by one with --scenarios', () => {
    expect(SCENARIO_IDS.slice(-4)).toEqual(['cert-issuance', 'mtls-handshakes', 'mtls-two-hop-latency', 'mtls-two-hop-tcp']);
    const defaults = parseBenchOptions([]);
    expect(defaults.ok && defaults.value.scenarios).toEqual(expect.arrayContaining([...IDENTITY_SCENARIO_IDS]));
    const chosen = parseBenchOptions(['--quick', '--scenarios', 'cert-issuance,mtls-two-hop-latency']);
    expect(chosen.ok && chosen.value.scenarios).toEqual(['cert-issuance', 'mtls-two-hop-latency']);
  });

  it('refuse a misspelt identity scenario, naming it', () => {
    const parsed = parseBenchOptions(['--scenarios', 'cert-issuing']);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.input).toBe('cert-issuing');
    expect(parsed.error.message).toContain('"cert-issuing" is not one of');
    expect(parsed.error.message).toContain('mtls-handshakes');
  });
});

describe('identityBenchSettings', () => {
  it('bounds a full run by --duration and large counts', () => {
    const settings = identityBenchSettings({ quick: false, durationMs: 10_000 });
    expect(settings.durationMs).toBe(10_000);
    expect(settings.caMaxCount).toBeGreaterThanOrEqual(100_000);
    expect(settings.handshakeMaxCount).toBeGreaterThanOrEqual(100_000);
  });

  it('keeps the gRPC calls within the burst the control plane grants one caller address, warm-up included', () => {
    for (const quick of [true, false]) {
      const settings = identityBenchSettings({ quick, durationMs: 10_000 });
      expect(settings.grpcWarmupCount + settings.grpcMaxCount).toBeLessThanOrEqual(PEER_CERTIFY_RATE_LIMIT.burst);
      expect(settings.grpcMaxCount).toBeGreaterThanOrEqual(100);
    }
  });

  it('keeps --quick small: short, with counts a loaded machine gets through', () => {
    const quick = identityBenchSettings({ quick: true, durationMs: 1_000 });
    const full = identityBenchSettings({ quick: false, durationMs: 1_000 });
    expect(quick.durationMs).toBe(1_000);
    for (const key of ['caWarmupCount', 'caMaxCount', 'handshakeWarmupCount', 'handshakeMaxCount'] as const) {
      expect(quick[key]).toBeLessThan(full[key]);
    }
  });

  it('never asks more of one identity than the control plane grants at once', () => {
    expect(identityBenchSettings({ quick: false, durationMs: 1_000 }).grpcCallsPerIdentity).toBeLessThanOrEqual(5);
  });
});
