// weft-control's own bindings: the control plane's use cases, built from core classes over the adapters' ports.
import { CertificateAuthority, DEFAULT_TRUST_DOMAIN, IdentityIssuer, TokenValidator } from '@weft/core';
import { ContainerModule } from 'inversify';

export interface ControlModuleOptions {
  /** The trust domain of every identity this control plane issues. */
  readonly trustDomain?: string;
}

export function controlModule(options: ControlModuleOptions = {}): ContainerModule {
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  return new ContainerModule(({ bind }) => {
    bind(IdentityIssuer)
      .toResolvedValue(
        (tokens: TokenValidator, authority: CertificateAuthority) => new IdentityIssuer(tokens, authority, { trustDomain }),
        [TokenValidator, CertificateAuthority],
      )
      .inSingletonScope();
  });
}
