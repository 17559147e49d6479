// The proxy's own bindings: its traffic stages, built from core classes over the adapters' ports.
import { type Authority, Clock, DiscoverEndpoints, RandomSource, ResolveName } from '@weft/core';
import { ContainerModule } from 'inversify';
import { EndpointBalancer } from './outbound/endpoint-balancer.js';

/** Makes the balancer of one outbound target; each one watches discovery until closed. */
export const EndpointBalancerFactory = Symbol('EndpointBalancerFactory');
export type EndpointBalancerFactory = (target: Authority) => EndpointBalancer;

export function proxyModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<EndpointBalancerFactory>(EndpointBalancerFactory)
      .toResolvedValue(
        // With a ResolveName bound, targets discovery does not know fall back to DNS; without one they stay unknown.
        (discovery: DiscoverEndpoints, clock: Clock, random: RandomSource, resolver: ResolveName | undefined): EndpointBalancerFactory =>
          (target) =>
            new EndpointBalancer(discovery, target, clock, random, undefined, undefined, resolver === undefined ? undefined : { resolver }),
        [DiscoverEndpoints, Clock, RandomSource, { serviceIdentifier: ResolveName, optional: true }],
      )
      .inSingletonScope();
  });
}
