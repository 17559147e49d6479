// What every forwarded HTTP/2 stream shares: ports, upstream sessions, targets and the options of one H2Proxy.
import type { ProxyMetrics } from '@weft/core';
import type { EndpointChoiceContext, ForwardOptions } from '../http/forward-context.js';
import type { TapHub } from '../tap/tap-hub.js';
import type { H2UpstreamSessions } from './h2-upstream-sessions.js';

export interface H2ForwardContext extends EndpointChoiceContext {
  readonly metrics: ProxyMetrics;
  readonly upstreams: H2UpstreamSessions;
  readonly options: ForwardOptions;
  /** Inbound drops a client-supplied weft-client-id. */
  readonly stripClientId: boolean;
  /** Where streams are published while somebody taps; absent, nothing is. */
  readonly tap: TapHub | undefined;
}
