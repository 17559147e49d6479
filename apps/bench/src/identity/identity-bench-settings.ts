// The identity scenarios' bounds (counts, concurrency, time), full or --quick, read from the bench options.
import { PEER_CERTIFY_RATE_LIMIT } from '@weft/adapter-grpc';
import type { BenchOptions } from '../bench-options.js';

/** How often the identity scenarios sample a proxy's CPU and RSS. */
export const IDENTITY_SAMPLE_EVERY_MS = 250;

export interface IdentityBenchSettings {
  /** Measured time of each issuance and handshake loop; the loop also stops at its count. */
  readonly durationMs: number;
  /** Certificates issued and thrown away before the measured CA loop (JIT warm-up). */
  readonly caWarmupCount: number;
  /** At most this many certificates in the measured CA loop. */
  readonly caMaxCount: number;
  /** Distinct pre-made CSRs the CA loop cycles through. */
  readonly caCsrCount: number;
  /** Certify calls kept in flight against the CA (its CSR check runs on libuv's pool, so a few keep the core busy). */
  readonly caConcurrency: number;
  /**
   * gRPC Certify calls made at most (each identity is used `grpcCallsPerIdentity` times, within its limit). Warm-up
   * and measured calls together stay within the control plane's burst per caller address: all come from 127.0.0.1.
   */
  readonly grpcMaxCount: number;
  /** Certify calls made first, on identities of their own, so the control plane's code is compiled before the clock starts. */
  readonly grpcWarmupCount: number;
  readonly grpcCallsPerIdentity: number;
  readonly grpcConcurrency: number;
  /** Handshakes sent and thrown away first, and the most measured. */
  readonly handshakeWarmupCount: number;
  readonly handshakeMaxCount: number;
  /** Connections being set up at once by the handshake client. */
  readonly handshakeConcurrency: number;
}

/** The control plane's per-identity Certify limit lets a new identity make 5 calls at once (DEFAULT_CERTIFY_RATE_LIMIT.burst). */
const CERTIFY_BURST = 5;
/**
 * Calls one caller address may make at once (PEER_CERTIFY_RATE_LIMIT.burst, 200); after it, one per 50 ms. A few are
 * left over, as the bucket refills only as time passes.
 */
export const GRPC_CALLS_PER_SOURCE = PEER_CERTIFY_RATE_LIMIT.burst - 10;

/** Bounds for a run with `options`: a full run measures for --duration, --quick for its 1 s with smaller counts. */
export function identityBenchSettings(options: Pick<BenchOptions, 'quick' | 'durationMs'>): IdentityBenchSettings {
  const quick = options.quick;
  return {
    durationMs: options.durationMs,
    caWarmupCount: quick ? 50 : 500,
    caMaxCount: quick ? 5_000 : 200_000,
    caCsrCount: quick ? 20 : 100,
    caConcurrency: 4,
    grpcMaxCount: GRPC_CALLS_PER_SOURCE - 40,
    grpcWarmupCount: 40,
    grpcCallsPerIdentity: CERTIFY_BURST,
    grpcConcurrency: 8,
    handshakeWarmupCount: quick ? 50 : 500,
    handshakeMaxCount: quick ? 5_000 : 200_000,
    handshakeConcurrency: 8,
  };
}
