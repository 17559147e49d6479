// redirectedOutboundHandlers: serves each connection iptables redirected to the outbound listener by its original destination.
import type { SocketAddress } from '@weft/core';
import type { H2Proxy } from '../h2/h2-proxy.js';
import type { Http1ConnectionInfo, Http1Proxy } from '../http/http1-proxy.js';
import { forwardOpaque } from '../tcp/listen-upstream.js';
import type { RedirectedHandlers } from '../tcp/listen-outbound.js';
import type { DetectedConnection } from '../transport/connection-detector.js';
import type { TransportLog } from '../transport/transport-log.js';
import type { RedirectedTargets } from './redirected-targets.js';

export interface RedirectedOutboundOptions {
  readonly targets: RedirectedTargets;
  readonly http1: Pick<Http1Proxy, 'handleHttp1Connection'>;
  readonly h2: Pick<H2Proxy, 'handleH2Connection'>;
  readonly log?: TransportLog;
}

const NO_PRE_READ = Buffer.alloc(0);

/**
 * Like an upstream listener whose fixed target is, per connection, the original destination as an IP authority:
 * HTTP/1 and HTTP/2 go to the outbound HTTP proxies with that target (balanced when discovery knows the IP, else sent to
 * the destination as it is), TLS from the app and opaque TCP are forwarded as bytes (RedirectedTargets).
 */
export function redirectedOutboundHandlers(options: RedirectedOutboundOptions): RedirectedHandlers {
  const { targets, log } = options;
  const info = (originalDst: SocketAddress): Http1ConnectionInfo => ({ target: targets.authorityOf(originalDst), originalDst });
  const opaque = (detected: DetectedConnection, originalDst: SocketAddress) =>
    forwardOpaque(detected, (connection) => targets.forward(connection, originalDst), log);
  return {
    http1: (detected, originalDst) => options.http1.handleHttp1Connection(detected.socket, NO_PRE_READ, info(originalDst)),
    h2: (detected, originalDst) => options.h2.handleH2Connection(detected.socket, info(originalDst)),
    tls: opaque,
    opaque,
  };
}
