// Wires the identity lifecycle into the proxy: its ports from the container, its files checked, its readiness condition.
import { Clock, ProxyMetrics, RandomSource, WorkloadCertifier } from '@weft/core';
import type { Container } from 'inversify';
import { READINESS_CONDITIONS, type Readiness } from '../admin/readiness.js';
import type { TransportLog } from '../transport/transport-log.js';
import { IdentityLifecycle } from './identity-lifecycle.js';
import type { IdentitySettings } from './identity-settings.js';
import { identityTokenReader } from './identity-token.js';
import { checkIssuedX509Certificate } from './issued-certificate-check.js';
import type { CredentialSource } from './proxy-credentials.js';
import { timerScheduler } from './renewal-scheduler.js';
import { checkX509TrustAnchors, trustAnchorsReader } from './trust-anchors.js';
import { loadX509Rules } from './x509-rules.js';

/** The proxy's identity once prepared: its credentials, to start and stop with the proxy. */
export interface ProxyIdentity {
  /** The proxy's key and certificate; undefined until the first certificate arrives. */
  readonly credentials: CredentialSource;
  /** Makes readiness wait for a certificate ("identity" condition) and asks for the first one. */
  start(readiness: Readiness): void;
  stop(): void;
}

export interface PrepareProxyIdentityOptions {
  /** WEFT_PROXY_IDENTITY_* settings; without them the proxy has no identity and this returns undefined. */
  readonly settings: IdentitySettings | undefined;
  /** Must bind WorkloadCertifier, Clock, RandomSource and ProxyMetrics. */
  readonly container: Container;
  readonly log: TransportLog;
}

/**
 * Builds the identity lifecycle and reads its token and trust anchors once, so that a missing or bad file stops the
 * proxy at start with an error naming its variable, rather than leaving it unready with only a log line to tell.
 * @throws IdentityInputError for a token or trust anchors file that cannot be used; Error when no WorkloadCertifier is bound.
 */
export async function prepareProxyIdentity(options: PrepareProxyIdentityOptions): Promise<ProxyIdentity | undefined> {
  const { settings, container, log } = options;
  if (settings === undefined) return undefined;
  if (!container.isBound(WorkloadCertifier)) {
    throw new Error('the proxy has an identity (WEFT_PROXY_IDENTITY_*) but nothing to certify it: bind WorkloadCertifier');
  }
  const clock = container.get<Clock>(Clock);
  const readToken = identityTokenReader(settings.token);
  const readTrustAnchors = trustAnchorsReader(settings.trustAnchorsFile, checkX509TrustAnchors, clock);
  for (const read of [readToken, readTrustAnchors]) {
    const checked = await read();
    if (!checked.ok) throw checked.error;
  }
  // Before any credentials exist: the TLS checks that use them need the rules synchronously.
  const x509 = await loadX509Rules();
  const lifecycle = new IdentityLifecycle({
    identity: settings.identity,
    certifier: container.get<WorkloadCertifier>(WorkloadCertifier),
    createCsr: x509.createWorkloadCsr,
    readToken,
    readTrustAnchors,
    checkCertificate: checkIssuedX509Certificate,
    clock,
    random: container.get<RandomSource>(RandomSource),
    scheduler: timerScheduler,
    metrics: container.get<ProxyMetrics>(ProxyMetrics),
    log,
  });
  return {
    credentials: lifecycle,
    start: (readiness) => {
      readiness.require(READINESS_CONDITIONS.identity);
      lifecycle.onValidityChange((valid) => {
        if (valid) readiness.markMet(READINESS_CONDITIONS.identity);
        else readiness.markUnmet(READINESS_CONDITIONS.identity);
      });
      void lifecycle.start();
    },
    stop: () => lifecycle.stop(),
  };
}
