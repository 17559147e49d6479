// InboundTcpForwarder: forwards an opaque connection from a peer to the local application.
import { formatSocketAddress, type Milliseconds, type SocketAddress } from '@weft/core';
import { ConnectError, connectTcp } from '../transport/connect-tcp.js';
import type { AcceptedConnection } from '../transport/tcp-listener.js';
import { resetSocket } from '../transport/reset-socket.js';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';
import { spliceTcp, type TcpSpliceResult } from './splice-tcp.js';

export interface InboundTcpForwarderOptions {
  /** The local application (WEFT_PROXY_INBOUND_APP_ADDR). */
  readonly appAddr: SocketAddress;
  readonly connectTimeoutMs: Milliseconds;
  /** Resets connections idle this long; 0 (default) relies on TCP keep-alive alone. */
  readonly idleTimeoutMs?: number;
  /** Decides at the start of each connection, before the app is connected to; refused, the client is reset. */
  readonly authorize?: (connection: AcceptedConnection) => boolean;
  readonly log?: TransportLog;
}

export type InboundTcpForwardOutcome =
  | ({ readonly kind: 'relayed' } & TcpSpliceResult)
  | { readonly kind: 'app-unreachable' | 'client-gone'; readonly errno?: string }
  | { readonly kind: 'unauthorized' };

export class InboundTcpForwarder {
  private readonly log: TransportLog;

  constructor(private readonly options: InboundTcpForwarderOptions) {
    this.log = options.log ?? silentTransportLog;
  }

  /**
   * Connects to the app (`appAddr`, by default the configured one; one attempt) and relays until both sides are
   * done; if the app cannot be reached, or the connection is not authorized, the client is reset.
   */
  async forward(connection: AcceptedConnection, appAddr: SocketAddress = this.options.appAddr): Promise<InboundTcpForwardOutcome> {
    const client = connection.socket;
    if (this.options.authorize?.(connection) === false) {
      // Not a byte reaches the app; the client sees a reset, as from a closed port.
      connection.markFailed();
      resetSocket(client);
      return { kind: 'unauthorized' };
    }
    const abort = new AbortController();
    const onClientClose = () => abort.abort();
    client.once('close', onClientClose);
    try {
      const app = await connectTcp(appAddr, { timeoutMs: this.options.connectTimeoutMs, signal: abort.signal });
      client.off('close', onClientClose);
      const result = await spliceTcp(client, app, {
        ...(this.options.idleTimeoutMs ? { idleTimeoutMs: this.options.idleTimeoutMs } : {}),
        onFailure: (_side, errno) => connection.markFailed(errno),
      });
      return { kind: 'relayed', ...result };
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      if (error.code === 'ABORTED') return { kind: 'client-gone' };
      this.log({
        event: 'app_connect_failed',
        message: error.message,
        app: formatSocketAddress(appAddr),
        errno: error.code,
      });
      connection.markFailed(error.code);
      resetSocket(client);
      return { kind: 'app-unreachable', errno: error.code };
    } finally {
      client.off('close', onClientClose);
    }
  }
}
