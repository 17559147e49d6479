// The token adapter as an inversify ContainerModule: TokenValidator is the SignedTokenValidator; the issuer is bound too.
import { Clock, TokenValidator } from '@weft/core';
import { ContainerModule } from 'inversify';
import { SignedTokenIssuer } from './signed-token-issuer.js';
import { SignedTokenValidator } from './signed-token-validator.js';
import type { TokenSigningKey } from './token-signing-key.js';

export interface TokenModuleOptions {
  /** The control plane's signing key; see loadOrCreateTokenSigningKey(). */
  readonly key: TokenSigningKey;
  /** Identities of other trust domains are refused. */
  readonly trustDomain?: string;
  /** How long issued tokens last; 24 h by default. */
  readonly tokenLifetimeMs?: number;
  /** Token ids refused as 'revoked' from the start. */
  readonly revokedIds?: Iterable<string>;
}

/**
 * Binds TokenValidator to a SignedTokenValidator and SignedTokenIssuer (under its class) to an issuer with the same
 * key, both singletons reading time from the bound Clock.
 */
export function tokenModule(options: TokenModuleOptions): ContainerModule {
  const { key, trustDomain, tokenLifetimeMs, revokedIds } = options;
  return new ContainerModule(({ bind }) => {
    bind(SignedTokenValidator)
      .toResolvedValue(
        (clock: Clock) =>
          new SignedTokenValidator(key, clock, {
            ...(trustDomain !== undefined && { trustDomain }),
            ...(revokedIds !== undefined && { revokedIds }),
          }),
        [Clock],
      )
      .inSingletonScope();
    bind<TokenValidator>(TokenValidator).toService(SignedTokenValidator);
    bind(SignedTokenIssuer)
      .toResolvedValue(
        (clock: Clock) => new SignedTokenIssuer(key, clock, tokenLifetimeMs === undefined ? {} : { lifetimeMs: tokenLifetimeMs }),
        [Clock],
      )
      .inSingletonScope();
  });
}
