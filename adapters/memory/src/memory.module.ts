// The memory adapters as one inversify ContainerModule: every port bound to its in-memory implementation.
import {
  CertificateAuthority,
  Clock,
  DiscoverEndpoints,
  DiscoverInboundPolicy,
  DiscoverProfile,
  ProxyMetrics,
  RandomSource,
  ResolveName,
  TokenValidator,
} from '@weft/core';
import { ContainerModule, type Newable } from 'inversify';
import { FixedClock } from './fixed-clock.js';
import { InMemoryCertificateAuthority } from './in-memory-certificate-authority.js';
import { InMemoryDiscoverEndpoints } from './in-memory-discover-endpoints.js';
import { InMemoryDiscoverInboundPolicy } from './in-memory-discover-inbound-policy.js';
import { InMemoryDiscoverProfile } from './in-memory-discover-profile.js';
import { InMemoryProxyMetrics } from './in-memory-proxy-metrics.js';
import { InMemoryResolveName } from './in-memory-resolve-name.js';
import { InMemoryTokenValidator } from './in-memory-token-validator.js';
import { SeededRandom } from './seeded-random.js';

export interface FixedTimeModuleOptions {
  /** Where the FixedClock starts, in ms since the epoch. */
  readonly startTimeMs?: number;
  /** The seed of the SeededRandom source. */
  readonly seed?: number;
}

/**
 * Time that moves only when a test moves it, repeatable randomness and host names answered from a table: the Clock,
 * RandomSource and ResolveName of unit tests, which the system adapter provides for real.
 */
export function fixedTimeModule(options: FixedTimeModuleOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(FixedClock).toConstantValue(new FixedClock(options.startTimeMs ?? 0));
    bind<Clock>(Clock).toService(FixedClock);
    bind(SeededRandom).toConstantValue(new SeededRandom(options.seed ?? 1));
    bind<RandomSource>(RandomSource).toService(SeededRandom);
    // Here rather than in memoryModule, which is loaded beside the system adapter's DNS resolver in main.ts.
    bind(InMemoryResolveName).toSelf().inSingletonScope();
    bind<ResolveName>(ResolveName).toService(InMemoryResolveName);
  });
}

export interface MemoryModuleOptions {
  /** Ports another adapter module binds in this container, e.g. ProxyMetrics when Prometheus is loaded too. */
  readonly omit?: readonly symbol[];
}

/**
 * Binds each discovery, policy, identity and metrics port to its in-memory adapter. The concrete classes
 * are bound too, so a test reaches the driving methods (`setEndpoints`, `issue`, ...) of the very
 * instance the app uses. Clock, RandomSource and ResolveName come from fixedTimeModule or the system adapter.
 */
export function memoryModule(options: MemoryModuleOptions = {}): ContainerModule {
  const omitted = new Set(options.omit ?? []);
  return new ContainerModule(({ bind }) => {
    // The class is always bound, so tests can reach it; the port token only when no other module binds it.
    const bindPort = (token: symbol, implementation: Newable<object>): void => {
      bind(implementation).toSelf().inSingletonScope();
      if (!omitted.has(token)) bind(token).toService(implementation);
    };
    bindPort(DiscoverEndpoints, InMemoryDiscoverEndpoints);
    bindPort(DiscoverProfile, InMemoryDiscoverProfile);
    bindPort(DiscoverInboundPolicy, InMemoryDiscoverInboundPolicy);
    bindPort(TokenValidator, InMemoryTokenValidator);
    bindPort(CertificateAuthority, InMemoryCertificateAuthority);
    bindPort(ProxyMetrics, InMemoryProxyMetrics);
  });
}
