import {
  FixedClock,
  InMemoryCertificateAuthority,
  InMemoryProxyMetrics,
  InMemoryTokenValidator,
  memoryCsrFor,
  readMemoryCertificate,
  SeededRandom,
} from '@weft/adapter-memory';
import {
  DEFAULT_LEAF_LIFETIME_MS,
  IdentityIssuer,
  makeWorkloadIdentity,
  MAX_RENEWAL_RETRY_DELAY_MS,
  MIN_RENEWAL_INTERVAL_MS,
  ok,
  type RandomSource,
  unwrap,
  type WorkloadCertifier,
} from '@weft/core';
import { describe, expect, it } from 'vitest';
import type { TransportEvent } from '../transport/transport-log.js';
import type { CsrFactory } from './csr-factory.js';
import { IdentityLifecycle } from './identity-lifecycle.js';
import type { IssuedCertificateCheck } from './issued-certificate-check.js';
import { ManualScheduler } from './manual-scheduler.spec-helper.js';
import type { ProxyCredentials } from './proxy-credentials.js';

const START = Date.UTC(2030, 0, 1);
const identity = unwrap(makeWorkloadIdentity({ trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' }));
const NAME = 'web.shop.serviceaccount.identity.weft.cluster.local';
// The memory CA back-dates notBefore by 20 s; 70 % of the whole window (24 h + 20 s) runs from there: 16 h 47 m 54 s.
const RENEW_AFTER_MS = 60_474_000;

interface Harness {
  readonly lifecycle: IdentityLifecycle;
  readonly clock: FixedClock;
  readonly scheduler: ManualScheduler;
  readonly ca: InMemoryCertificateAuthority;
  readonly tokens: InMemoryTokenValidator;
  readonly metrics: InMemoryProxyMetrics;
  readonly events: TransportEvent[];
  /** When the certifier was asked, in epoch ms. */
  readonly calls: number[];
  /** Each credentials published through onChange. */
  readonly published: ProxyCredentials[];
  /** The token the proxy sends from now on, as when Kubernetes rewrites the token file. */
  setToken(token: string): void;
}

interface HarnessOptions {
  readonly seed?: number;
  readonly random?: RandomSource;
  readonly certifier?: (inner: WorkloadCertifier) => WorkloadCertifier;
  readonly checkCertificate?: IssuedCertificateCheck;
}

function harness(options: HarnessOptions = {}): Harness {
  const clock = new FixedClock(START);
  const ca = new InMemoryCertificateAuthority(clock);
  const tokens = new InMemoryTokenValidator(clock);
  let token = tokens.issue(identity);
  const issuer = new IdentityIssuer(tokens, ca, { trustDomain: 'cluster.local' });
  const calls: number[] = [];
  const recorded: WorkloadCertifier = {
    certify: (request) => {
      calls.push(clock.now());
      return issuer.certify(request);
    },
  };
  let keys = 0;
  const createCsr: CsrFactory = async (id) => ({ csrDer: memoryCsrFor(id), privateKeyPem: `memory key ${++keys}` });
  const scheduler = new ManualScheduler(clock);
  const metrics = new InMemoryProxyMetrics();
  const events: TransportEvent[] = [];
  const lifecycle = new IdentityLifecycle({
    identity,
    certifier: options.certifier ? options.certifier(recorded) : recorded,
    createCsr,
    readToken: async () => ok(token),
    readTrustAnchors: async () => ok(ca.trustAnchorsPem()),
    ...(options.checkCertificate && { checkCertificate: options.checkCertificate }),
    clock,
    random: options.random ?? new SeededRandom(options.seed ?? 7),
    scheduler,
    metrics,
    log: (event) => events.push(event),
  });
  const published: ProxyCredentials[] = [];
  lifecycle.onChange((credentials) => published.push(credentials));
  return { lifecycle, clock, scheduler, ca, tokens, metrics, events, calls, published, setToken: (next) => (token = next) };
}

function failures(events: readonly TransportEvent[]): TransportEvent[] {
  return events.filter((event) => event.event === 'identity-certify-failed');
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, index) => time - (times[index] ?? 0));
}

describe('IdentityLifecycle: the first certificate', () => {
  it('has no credentials and is not valid before its first certificate', () => {
    const { lifecycle } = harness();
    expect(lifecycle.current()).toBeUndefined();
    expect(lifecycle.hasValidCertificate()).toBe(false);
  });

  it('gets a certificate at start and publishes key, chain (leaf first) and trust anchors', async () => {
    const { lifecycle, ca, published, metrics } = harness();
    const validity: boolean[] = [];
    lifecycle.onValidityChange((valid) => validity.push(valid));
    await lifecycle.start();

    const credentials = lifecycle.current();
    expect(credentials).toBeDefined();
    expect(published).toEqual([credentials]);
    expect(validity).toEqual([true]);
    expect(lifecycle.hasValidCertificate()).toBe(true);
    expect(credentials?.identityName).toBe(NAME);
    expect(credentials?.privateKeyPem).toBe('memory key 1');
    expect(credentials?.trustAnchorsPem).toBe(ca.trustAnchorsPem());
    expect(credentials?.notAfter).toBe(START + DEFAULT_LEAF_LIFETIME_MS);
    const chain = (credentials?.certificateChainPem ?? '').split(/(?<=-----\n)(?=-----BEGIN)/);
    expect(chain.map((pem) => readMemoryCertificate(pem)?.role)).toEqual(['leaf', 'issuer']);
    expect(readMemoryCertificate(chain[0] ?? '')?.dnsNames).toEqual([NAME]);
    expect(metrics.value('identity_cert_refresh_count')).toBe(1);
    expect(metrics.value('identity_cert_expiration_timestamp_seconds')).toBe((START + DEFAULT_LEAF_LIFETIME_MS) / 1000);
  });

  it('logs the certificate without the key or the token', async () => {
    const { lifecycle, events } = harness();
    await lifecycle.start();
    const line = JSON.stringify(events);
    expect(events.map((event) => event.event)).toEqual(['identity-certified']);
    expect(line).not.toContain('memory key');
    expect(line).not.toContain('weft-memory.');
  });
});

describe('IdentityLifecycle: renewal', () => {
  it('renews at 70 % of the lifetime, with a fresh key, and counts each certificate', async () => {
    expect(RENEW_AFTER_MS).toBeCloseTo(0.7 * (DEFAULT_LEAF_LIFETIME_MS + 20_000) - 20_000, 3);
    const { lifecycle, scheduler, calls, published, metrics } = harness();
    await lifecycle.start();
    await scheduler.advance(RENEW_AFTER_MS - 1);
    expect(calls).toHaveLength(1);

    await scheduler.advance(1);
    expect(calls).toEqual([START, START + RENEW_AFTER_MS]);
    expect(published).toHaveLength(2);
    expect(lifecycle.current()).toBe(published[1]);
    expect(published[1]?.notAfter).toBe(START + RENEW_AFTER_MS + DEFAULT_LEAF_LIFETIME_MS);
    expect(published[1]?.privateKeyPem).not.toBe(published[0]?.privateKeyPem);
    expect(metrics.value('identity_cert_refresh_count')).toBe(2);
    expect(metrics.value('identity_cert_expiration_timestamp_seconds')).toBe((published[1]?.notAfter ?? 0) / 1000);

    await scheduler.advance(RENEW_AFTER_MS);
    expect(gaps(calls)).toEqual([RENEW_AFTER_MS, RENEW_AFTER_MS]);
  });

  it('keeps the old certificate while the CA is away, retrying at least 10 s apart with backoff, then recovers', async () => {
    const { lifecycle, scheduler, ca, calls, published, events, metrics } = harness();
    await lifecycle.start();
    const first = lifecycle.current();
    ca.setIssuerAvailable(false);

    await scheduler.advance(RENEW_AFTER_MS + 10 * 60_000);
    expect(lifecycle.current()).toBe(first);
    expect(lifecycle.hasValidCertificate()).toBe(true);
    expect(published).toHaveLength(1);
    const retries = gaps(calls.slice(1));
    expect(retries.length).toBeGreaterThanOrEqual(4);
    // Nominal 10 s, 20 s, 40 s, ... capped at 5 min, each stretched by up to half at random.
    retries.forEach((gap, attempt) => {
      const nominal = Math.min(MIN_RENEWAL_INTERVAL_MS * 2 ** attempt, MAX_RENEWAL_RETRY_DELAY_MS);
      expect(gap).toBeGreaterThanOrEqual(Math.max(MIN_RENEWAL_INTERVAL_MS, Math.min(nominal, MAX_RENEWAL_RETRY_DELAY_MS / 1.5)));
      expect(gap).toBeLessThanOrEqual(Math.min(nominal * 1.5, MAX_RENEWAL_RETRY_DELAY_MS));
    });
    const failed = failures(events);
    expect(failed).toHaveLength(calls.length - 1);
    expect(failed.every((event) => event.code === 'issuer-unavailable' && event.refusal === 'CertifyRefusal')).toBe(true);
    expect(failed[0]?.message).toMatch(/keeping the certificate valid until 2030-01-02T00:00:00\.000Z; retrying in \d+\.\ds/);

    ca.setIssuerAvailable(true);
    const lastTry = calls.length;
    await scheduler.advance(MAX_RENEWAL_RETRY_DELAY_MS);
    expect(calls.length).toBe(lastTry + 1);
    expect(published).toHaveLength(2);
    expect(lifecycle.current()).toBe(published[1]);
    expect(metrics.value('identity_cert_refresh_count')).toBe(2);
    // Recovered: the next try is the normal renewal at 70 %, not a retry.
    expect(scheduler.dueTimes()[0]).toBe((calls.at(-1) ?? 0) + RENEW_AFTER_MS);
  });

  it('jitters retries: proxies that failed together do not retry together', async () => {
    const retryTimes = async (seed: number): Promise<number[]> => {
      const { lifecycle, scheduler, ca, calls } = harness({ seed });
      ca.setIssuerAvailable(false);
      await lifecycle.start();
      await scheduler.advance(3 * 60_000);
      return calls;
    };
    const [a, b] = await Promise.all([retryTimes(1), retryTimes(2)]);
    expect(a.length).toBeGreaterThanOrEqual(4);
    expect(a[1]).not.toBe(b[1]);
    expect(gaps(a).some((gap, attempt) => gap !== MIN_RENEWAL_INTERVAL_MS * 2 ** attempt)).toBe(true);
  });

  it('retries a refused token at the slowest pace and recovers once the token file holds a good one', async () => {
    const { lifecycle, scheduler, tokens, calls, events, setToken } = harness();
    setToken('weft-memory.unknown');
    await lifecycle.start();
    expect(lifecycle.current()).toBeUndefined();
    expect(failures(events)[0]).toMatchObject({ code: 'invalid', refusal: 'TokenRefusal', retryable: false });

    await scheduler.advance(MAX_RENEWAL_RETRY_DELAY_MS);
    expect(calls).toHaveLength(2);
    expect(gaps(calls)[0]).toBeGreaterThanOrEqual(MAX_RENEWAL_RETRY_DELAY_MS / 1.5);

    setToken(tokens.issue(identity));
    await scheduler.advance(MAX_RENEWAL_RETRY_DELAY_MS);
    expect(lifecycle.hasValidCertificate()).toBe(true);
  });

  it('retries an unavailable token store quickly, as the port says it is retryable', async () => {
    const { lifecycle, scheduler, tokens, calls, events } = harness();
    tokens.setAvailable(false);
    await lifecycle.start();
    await scheduler.advance(MIN_RENEWAL_INTERVAL_MS * 1.5);
    expect(calls).toHaveLength(2);
    expect(failures(events)[0]).toMatchObject({ code: 'unavailable', refusal: 'TokenRefusal', retryable: true });
  });

  it('does not use a certificate its check refuses, and retries', async () => {
    let refuse = true;
    const { lifecycle, scheduler, events, published } = harness({ checkCertificate: () => (refuse ? 'does not chain to the trust anchors' : undefined) });
    await lifecycle.start();
    expect(lifecycle.current()).toBeUndefined();
    expect(published).toEqual([]);
    expect(failures(events)[0]).toMatchObject({ code: 'certificate-rejected', retryable: true });
    expect(String(failures(events)[0]?.message)).toContain('does not chain to the trust anchors');
    refuse = false;
    await scheduler.advance(MIN_RENEWAL_INTERVAL_MS * 1.5);
    expect(published).toHaveLength(1);
  });

  it('treats a certifier that throws as a failed try and keeps going', async () => {
    let broken = true;
    const { lifecycle, scheduler, events } = harness({
      certifier: (inner) => ({
        certify: async (request) => {
          if (broken) throw new Error('socket hang up');
          return inner.certify(request);
        },
      }),
    });
    await lifecycle.start();
    expect(failures(events)[0]).toMatchObject({ code: 'failed', retryable: true });
    expect(String(failures(events)[0]?.message)).toContain('socket hang up');
    broken = false;
    await scheduler.advance(MIN_RENEWAL_INTERVAL_MS * 1.5);
    expect(lifecycle.hasValidCertificate()).toBe(true);
  });

  it('stops being valid when its certificate expires unrenewed, keeps it, and is valid again on the next one', async () => {
    const { lifecycle, scheduler, ca, clock, events } = harness();
    const validity: boolean[] = [];
    lifecycle.onValidityChange((valid) => validity.push(valid));
    await lifecycle.start();
    const first = lifecycle.current();
    ca.setIssuerAvailable(false);

    await scheduler.advanceTo(START + DEFAULT_LEAF_LIFETIME_MS - 1);
    expect(validity).toEqual([true]);
    await scheduler.advance(1);
    expect(validity).toEqual([true, false]);
    expect(lifecycle.hasValidCertificate()).toBe(false);
    expect(lifecycle.current()).toBe(first);
    expect(events.some((event) => event.event === 'identity-certificate-expired')).toBe(true);

    ca.setIssuerAvailable(true);
    await scheduler.advance(MAX_RENEWAL_RETRY_DELAY_MS);
    expect(validity).toEqual([true, false, true]);
    expect(lifecycle.current()?.notAfter).toBeGreaterThan(clock.now());
  });
});

describe('IdentityLifecycle: stop', () => {
  it('cancels its timers and asks for nothing more', async () => {
    const { lifecycle, scheduler, calls } = harness();
    await lifecycle.start();
    lifecycle.stop();
    expect(scheduler.dueTimes()).toEqual([]);
    await scheduler.advance(2 * DEFAULT_LEAF_LIFETIME_MS);
    expect(calls).toHaveLength(1);
  });

  it('ignores the answer of a try still in flight when it stopped', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { lifecycle, published } = harness({
      certifier: (inner) => ({
        certify: async (request) => {
          await gate;
          return inner.certify(request);
        },
      }),
    });
    const started = lifecycle.start();
    lifecycle.stop();
    release();
    await started;
    expect(lifecycle.current()).toBeUndefined();
    expect(published).toEqual([]);
  });
});
