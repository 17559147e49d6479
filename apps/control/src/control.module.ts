// weft-control's own bindings: the control plane's use cases, built from core classes over the adapters' ports.
import {
  CertificateAuthority,
  CertifyRateLimiter,
  type CertifyRateLimiterOptions,
  Clock,
  DEFAULT_TRUST_DOMAIN,
  IdentityIssuer,
  TokenValidator,
} from '@weft/core';
import { ContainerModule } from 'inversify';

export interface ControlModuleOptions {
  /** The trust domain of every identity this control plane issues. */
  readonly trustDomain?: string;
  /** How often one proven identity may be certified; DEFAULT_CERTIFY_RATE_LIMIT (burst 5, one more per 10 s) otherwise. */
  readonly identityRateLimit?: Partial<CertifyRateLimiterOptions>;
}

export function controlModule(options: ControlModuleOptions = {}): ContainerModule {
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  return new ContainerModule(({ bind }) => {
    bind(IdentityIssuer)
      .toResolvedValue(
        (tokens: TokenValidator, authority: CertificateAuthority, clock: Clock) =>
          new IdentityIssuer(tokens, authority, {
            trustDomain,
            rateLimit: { clock, limiter: new CertifyRateLimiter(options.identityRateLimit) },
          }),
        [TokenValidator, CertificateAuthority, Clock],
      )
      .inSingletonScope();
  });
}
