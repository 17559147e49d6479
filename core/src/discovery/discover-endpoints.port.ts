// DiscoverEndpoints port: a live view of the endpoints behind an authority, as a stream of EndpointUpdate.
import type { Subscription } from '../shared/subscription.js';
import type { Authority } from './authority.js';
import type { EndpointUpdateListener } from './endpoint-update.js';

export const DiscoverEndpoints = Symbol('DiscoverEndpoints');

export interface DiscoverEndpoints {
  /**
   * Watches the endpoints of `target`. The listener always gets a first message (`reset` or `doesNotExist`),
   * then incremental updates, as described beside EndpointUpdate; closing the subscription stops them.
   */
  watch(target: Authority, listener: EndpointUpdateListener): Subscription;
}
