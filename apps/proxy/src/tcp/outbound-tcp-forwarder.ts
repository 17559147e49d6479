// OutboundTcpForwarder: forwards an opaque client connection to one endpoint of an upstream service.
import { formatAuthority, formatSocketAddress } from '@weft/core';
import type { AcceptedConnection } from '../transport/tcp-listener.js';
import { resetSocket } from '../transport/reset-socket.js';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';
import { EndpointConnector, type EndpointConnectorOptions } from './endpoint-connector.js';
import { spliceTcp, type TcpSpliceResult } from './splice-tcp.js';

export interface OutboundTcpForwarderOptions extends EndpointConnectorOptions {
  /** Resets connections idle this long; 0 (default) relies on TCP keep-alive alone. */
  readonly idleTimeoutMs?: number;
}

/** How one forwarded connection ended: relayed (with its byte counts) or refused because no endpoint could be reached. */
export type TcpForwardOutcome =
  | ({ readonly kind: 'relayed'; readonly endpoint: string } & TcpSpliceResult)
  | { readonly kind: 'unavailable' | 'client-gone'; readonly errno?: string };

/** Balances per connection: each client connection gets its own endpoint, picked when it arrives. */
export class OutboundTcpForwarder {
  private readonly connector: EndpointConnector;
  private readonly log: TransportLog;

  constructor(private readonly options: OutboundTcpForwarderOptions) {
    this.connector = new EndpointConnector(options);
    this.log = options.log ?? silentTransportLog;
  }

  /** Connects to an endpoint and relays until both sides are done; a client that cannot be served is reset. */
  async forward(connection: AcceptedConnection): Promise<TcpForwardOutcome> {
    const client = connection.socket;
    const abort = new AbortController();
    const onClientClose = () => abort.abort();
    client.once('close', onClientClose);
    const connected = await this.connector.connect(abort.signal);
    client.off('close', onClientClose);
    if (!connected.ok) {
      if (connected.error.reason === 'aborted') return { kind: 'client-gone' };
      connection.markFailed(connected.error.errno);
      resetSocket(client);
      return { kind: 'unavailable', ...(connected.error.errno === undefined ? {} : { errno: connected.error.errno }) };
    }
    const { socket, endpoint } = connected.value;
    // Connect-side labels: `tls="true"` with the server's identity over mesh mTLS, else why not.
    if (this.options.meshTls) connection.decideTls?.(this.options.meshTls.tlsStatusOf(endpoint));
    const target = formatAuthority(this.options.target);
    const result = await spliceTcp(client, socket, {
      ...(this.options.idleTimeoutMs ? { idleTimeoutMs: this.options.idleTimeoutMs } : {}),
      onFailure: (side, errno) => {
        connection.markFailed(errno);
        this.log({
          event: 'tcp_forward_failed',
          message: `connection to ${target} ended by a failure on the ${side} side${errno ? ` (${errno})` : ''}; resetting both`,
          target,
          endpoint: formatSocketAddress(endpoint.address),
          errno,
        });
      },
    });
    return { kind: 'relayed', endpoint: formatSocketAddress(endpoint.address), ...result };
  }

  /** Stops watching discovery; open connections are left to their listener. */
  close(): void {
    this.connector.close();
  }
}
