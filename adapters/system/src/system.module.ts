// The host's clock, randomness and, when asked, DNS resolver as one inversify ContainerModule, for apps that run for real.
import { Clock, RandomSource, ResolveName } from '@weft/core';
import { ContainerModule } from 'inversify';
import { CryptoRandomSource } from './crypto-random-source.js';
import { DnsResolveName, type DnsResolveNameOptions } from './dns-resolve-name.js';
import { SystemClock } from './system-clock.js';

export interface SystemModuleOptions {
  /**
   * Binds ResolveName (and DnsResolveName) to a DNS resolver with these options; `{}` uses the host's DNS servers.
   * Left out, nothing is bound to ResolveName, so no name is ever looked up (balancers then do no DNS fallback).
   */
  readonly resolveNames?: DnsResolveNameOptions;
}

export function systemModule(options: SystemModuleOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<Clock>(Clock).to(SystemClock).inSingletonScope();
    bind<RandomSource>(RandomSource).to(CryptoRandomSource).inSingletonScope();
    const { resolveNames } = options;
    if (resolveNames !== undefined) {
      bind(DnsResolveName).toResolvedValue(() => new DnsResolveName(resolveNames)).inSingletonScope();
      bind<ResolveName>(ResolveName).toService(DnsResolveName);
    }
  });
}
