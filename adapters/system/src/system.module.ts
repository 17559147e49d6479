// The host's clock and randomness as one inversify ContainerModule, for apps that run for real.
import { Clock, RandomSource } from '@weft/core';
import { ContainerModule } from 'inversify';
import { CryptoRandomSource } from './crypto-random-source.js';
import { SystemClock } from './system-clock.js';

export function systemModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<Clock>(Clock).to(SystemClock).inSingletonScope();
    bind<RandomSource>(RandomSource).to(CryptoRandomSource).inSingletonScope();
  });
}
