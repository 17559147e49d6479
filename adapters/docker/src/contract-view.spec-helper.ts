// The Docker adapter as the DiscoverEndpoints contract sees it: endpoint labels cut down to the contract's "pod" label.
import { type DiscoverEndpoints, type Endpoint, type EndpointUpdate, formatSocketAddress } from '@weft/core';

/**
 * The contract's endpoints carry free-form labels ({ pod: "pod-<address>" }); Docker derives an endpoint's metric
 * labels from its container (namespace, service, pod, serviceaccount), which the unit tests check. This view keeps
 * every other field and replaces the labels with the contract's, and drops endpoints `keep` refuses (addresses Docker
 * gives a container beside the one a test asked for) along with updates left empty by that.
 */
export function contractView(port: DiscoverEndpoints, keep: (endpoint: Endpoint) => boolean = () => true): DiscoverEndpoints {
  const relabel = (endpoint: Endpoint): Endpoint => ({ ...endpoint, labels: { pod: `pod-${formatSocketAddress(endpoint.address)}` } });
  return {
    watch: (target, listener) =>
      port.watch(target, (update: EndpointUpdate) => {
        if (update.kind === 'reset') return listener({ kind: 'reset', endpoints: update.endpoints.filter(keep).map(relabel) });
        if (update.kind === 'add') {
          const endpoints = update.endpoints.filter(keep).map(relabel);
          if (endpoints.length > 0) listener({ kind: 'add', endpoints });
          return;
        }
        if (update.kind === 'remove') {
          const addresses = update.addresses.filter((address) => keep({ address, weight: 0, labels: {} }));
          if (addresses.length > 0) listener({ kind: 'remove', addresses });
          return;
        }
        listener(update);
      }),
  };
}
