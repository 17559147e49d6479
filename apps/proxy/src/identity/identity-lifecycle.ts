// IdentityLifecycle: gets the proxy its certificate at start, renews it at 70 % of its life, and publishes each one.
import {
  type CertificateValidity,
  CertifyRefusal,
  type CertifyWorkloadRefusal,
  type Clock,
  err,
  identityName,
  type IssuedCertificate,
  ok,
  type ProxyMetrics,
  type RandomSource,
  type RenewalDelayOptions,
  type RenewalRetryOptions,
  renewalDelay,
  renewalRetryDelay,
  type Result,
  type Subscription,
  TokenRefusal,
  type WorkloadCertifier,
  type WorkloadIdentity,
} from '@weft/core';
import type { TransportLog } from '../transport/transport-log.js';
import type { CsrFactory } from './csr-factory.js';
import type { ReadIdentityToken } from './identity-token.js';
import type { IdentityInputError } from './identity-input-error.js';
import type { IssuedCertificateCheck } from './issued-certificate-check.js';
import type { CredentialSource, ProxyCredentials } from './proxy-credentials.js';
import type { RenewalScheduler } from './renewal-scheduler.js';
import type { ReadTrustAnchors } from './trust-anchors.js';

export interface IdentityLifecycleOptions {
  readonly identity: WorkloadIdentity;
  readonly certifier: WorkloadCertifier;
  readonly createCsr: CsrFactory;
  readonly readToken: ReadIdentityToken;
  readonly readTrustAnchors: ReadTrustAnchors;
  /** Refuses an issued certificate the proxy must not use; none by default. */
  readonly checkCertificate?: IssuedCertificateCheck;
  readonly clock: Clock;
  /** Spreads retries, so proxies that failed together do not retry in lockstep. */
  readonly random: RandomSource;
  readonly scheduler: RenewalScheduler;
  readonly metrics: Pick<ProxyMetrics, 'certificateRefreshed'>;
  readonly log: TransportLog;
  /** When to renew; 70 % of the lifetime by default. */
  readonly renewal?: RenewalDelayOptions;
  /** How long to wait after a failed try; 10 s doubling up to 5 min, jittered, by default. */
  readonly retry?: RenewalRetryOptions;
}

/** Why one try to get a certificate failed: a refusal of the certifier, a file that could not be read, or a throw. */
interface CertifyFailure {
  /** The refusal code, e.g. 'unreachable', 'expired', 'identity-not-proven', 'token-unreadable'. */
  readonly code: string;
  /** The kind of refusal, e.g. 'CertifyRefusal', 'TokenRefusal'. */
  readonly kind: string;
  readonly message: string;
  /** False when the same request would be refused again until someone changes something. */
  readonly retryable: boolean;
}

/** A certificate obtained, with the validity its renewal is planned from. */
interface Certified {
  readonly credentials: ProxyCredentials;
  readonly validity: CertificateValidity;
}

export class IdentityLifecycle implements CredentialSource {
  private readonly name: string;
  private credentials: ProxyCredentials | undefined;
  private valid = false;
  private failures = 0;
  private stopped = false;
  private started: Promise<void> | undefined;
  private renewTimer: Subscription | undefined;
  private expiryTimer: Subscription | undefined;
  private readonly changeListeners = new Set<(credentials: ProxyCredentials) => void>();
  private readonly validityListeners = new Set<(valid: boolean) => void>();

  constructor(private readonly options: IdentityLifecycleOptions) {
    this.name = identityName(options.identity);
  }

  current(): ProxyCredentials | undefined {
    return this.credentials;
  }

  onChange(listener: (credentials: ProxyCredentials) => void): Subscription {
    this.changeListeners.add(listener);
    return { close: () => this.changeListeners.delete(listener) };
  }

  /**
   * True while the proxy holds a certificate that has not expired. An expired one stays in current(), as the port
   * promises credentials once there were some: peers refuse it, so it lets no connection through, and the next
   * successful renewal replaces it.
   */
  hasValidCertificate(): boolean {
    return this.valid;
  }

  /** Calls the listener when the first certificate arrives, when it expires unrenewed, and when one arrives again. */
  onValidityChange(listener: (valid: boolean) => void): Subscription {
    this.validityListeners.add(listener);
    return { close: () => this.validityListeners.delete(listener) };
  }

  /** Asks for the first certificate now; resolves when that try has ended, whatever its outcome. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.attempt();
    return this.started;
  }

  /** Cancels the pending renewal and drops the listeners; the answer of a try in flight is ignored. */
  stop(): void {
    this.stopped = true;
    this.renewTimer?.close();
    this.expiryTimer?.close();
    this.changeListeners.clear();
    this.validityListeners.clear();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const outcome = await this.certifyOnce();
    if (this.stopped) return;
    if (outcome.ok) this.accept(outcome.value);
    else this.fail(outcome.error);
  }

  // A fresh key for every request, renewals included: it costs one P-256 key generation per renewal, and a key that
  // leaked (from a memory dump, say) then stops being useful when its certificate expires. Key and certificate
  // always travel together in one ProxyCredentials, so no handshake ever sees a key with the other key's certificate.
  private async certifyOnce(): Promise<Result<Certified, CertifyFailure>> {
    try {
      const [token, trustAnchorsPem] = await Promise.all([this.options.readToken(), this.options.readTrustAnchors()]);
      if (!token.ok) return err(inputFailure(token.error));
      if (!trustAnchorsPem.ok) return err(inputFailure(trustAnchorsPem.error));
      const { csrDer, privateKeyPem } = await this.options.createCsr(this.options.identity);
      const issued = await this.options.certifier.certify({ identityName: this.name, token: token.value, csr: csrDer });
      if (!issued.ok) return err(refusalFailure(issued.error));
      const credentials = this.credentialsOf(issued.value, privateKeyPem, trustAnchorsPem.value);
      const problem = this.options.checkCertificate?.(credentials, this.options.clock.now());
      if (problem !== undefined) return err({ code: 'certificate-rejected', kind: 'IssuedCertificateCheck', message: problem, retryable: true });
      return ok({ credentials, validity: { notBefore: issued.value.notBefore, notAfter: issued.value.notAfter } });
    } catch (error) {
      // A certifier or CSR factory that throws broke its contract; treat it like an unreachable certifier.
      return err({ code: 'failed', kind: 'Error', message: error instanceof Error ? error.message : String(error), retryable: true });
    }
  }

  private credentialsOf(issued: IssuedCertificate, privateKeyPem: string, trustAnchorsPem: string): ProxyCredentials {
    return {
      identityName: this.name,
      privateKeyPem,
      certificateChainPem: [issued.leafPem, ...issued.chainPem].map(withNewline).join(''),
      trustAnchorsPem,
      notAfter: issued.notAfter,
    };
  }

  private accept({ credentials, validity }: Certified): void {
    const now = this.options.clock.now();
    this.credentials = credentials;
    this.failures = 0;
    this.options.metrics.certificateRefreshed(credentials.notAfter);
    const delayMs = renewalDelay(validity, now, this.options.renewal);
    this.options.log({
      event: 'identity-certified',
      message: `certified as ${this.name} until ${iso(credentials.notAfter)}; renewing in ${seconds(delayMs)}`,
      identity: this.name,
      notAfter: iso(credentials.notAfter),
      renewInMs: Math.round(delayMs),
    });
    for (const listener of [...this.changeListeners]) this.safely('onChange', () => listener(credentials));
    this.setValid(true);
    this.renewIn(delayMs);
    this.watchExpiry(credentials, now);
  }

  private fail(failure: CertifyFailure): void {
    // A refusal that is not retryable needs a change elsewhere (a rotated token, a fixed policy): keep trying,
    // since the proxy must recover once that happens, but at the slowest pace rather than every 10 s.
    const retryMs = renewalRetryDelay(failure.retryable ? this.failures : Number.MAX_SAFE_INTEGER, this.options.random, this.options.retry);
    this.failures += 1;
    const holding = this.credentials === undefined ? 'no certificate yet' : `keeping the certificate valid until ${iso(this.credentials.notAfter)}`;
    this.options.log({
      event: 'identity-certify-failed',
      message: `could not get a certificate for ${this.name} (${failure.kind} ${failure.code}: ${failure.message}); ${holding}; retrying in ${seconds(retryMs)}`,
      identity: this.name,
      code: failure.code,
      refusal: failure.kind,
      retryable: failure.retryable,
      failures: this.failures,
      retryInMs: Math.round(retryMs),
    });
    this.renewIn(retryMs);
  }

  private renewIn(delayMs: number): void {
    this.renewTimer?.close();
    this.renewTimer = this.options.scheduler.after(delayMs, () => this.attempt());
  }

  // An expired certificate is useless to peers: the proxy stops being valid (and so ready) until it gets a new one.
  private watchExpiry(credentials: ProxyCredentials, now: number): void {
    this.expiryTimer?.close();
    this.expiryTimer = this.options.scheduler.after(Math.max(0, credentials.notAfter - now), () => {
      if (this.stopped || this.credentials !== credentials) return;
      this.options.log({
        event: 'identity-certificate-expired',
        message: `the certificate of ${this.name} expired at ${iso(credentials.notAfter)} and could not be renewed; still trying`,
        identity: this.name,
      });
      this.setValid(false);
    });
  }

  private setValid(valid: boolean): void {
    if (this.valid === valid) return;
    this.valid = valid;
    for (const listener of [...this.validityListeners]) this.safely('onValidityChange', () => listener(valid));
  }

  // A listener that throws must not stop the renewal schedule.
  private safely(what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.log({ event: 'identity-listener-failed', message: `an ${what} listener threw: ${String(error)}` });
    }
  }
}

function inputFailure(error: IdentityInputError): CertifyFailure {
  // A missing file may appear (a volume mounted late), a bad one be rewritten: worth retrying.
  return { code: error.code, kind: error.name, message: error.message, retryable: true };
}

// Retryable as the WorkloadCertifier port says: CertifyRefusal.retryable, TokenRefusal 'unavailable'; a bad identity never.
function refusalFailure(refusal: CertifyWorkloadRefusal): CertifyFailure {
  const kind = refusal.name;
  if (refusal instanceof CertifyRefusal) return { code: refusal.code, kind, message: refusal.message, retryable: refusal.retryable };
  if (refusal instanceof TokenRefusal) return { code: refusal.code, kind, message: refusal.message, retryable: refusal.code === 'unavailable' };
  return { code: `invalid-${refusal.part}`, kind, message: refusal.toString(), retryable: false };
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)}s`;
}
