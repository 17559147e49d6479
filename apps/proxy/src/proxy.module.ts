// The proxy's own bindings: its traffic stages, built from core classes over the adapters' ports.
import { type Authority, Clock, DiscoverEndpoints, RandomSource } from '@weft/core';
import { ContainerModule } from 'inversify';
import { EndpointBalancer } from './outbound/endpoint-balancer.js';

/** Makes the balancer of one outbound target; each one watches discovery until closed. */
export const EndpointBalancerFactory = Symbol('EndpointBalancerFactory');
export type EndpointBalancerFactory = (target: Authority) => EndpointBalancer;

export function proxyModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<EndpointBalancerFactory>(EndpointBalancerFactory)
      .toResolvedValue(
        (discovery: DiscoverEndpoints, clock: Clock, random: RandomSource): EndpointBalancerFactory =>
          (target) => new EndpointBalancer(discovery, target, clock, random),
        [DiscoverEndpoints, Clock, RandomSource],
      )
      .inSingletonScope();
  });
}
