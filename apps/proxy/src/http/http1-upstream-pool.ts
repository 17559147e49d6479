// Http1UpstreamPool: the keep-alive HTTP/1.1 connections to one endpoint; each request takes an idle one or opens a new one.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  Http1UpstreamConnection,
  type UpstreamConnectionOptions,
  type UpstreamConnectionOwner,
  type UpstreamHandler,
  type UpstreamRequest,
} from './http1-upstream-connection.js';

/** Opens one connection to the endpoint (plain TCP, or mTLS to its proxy), rejecting with a coded error. */
export type UpstreamConnector = () => Promise<Socket>;

export class Http1UpstreamPool implements UpstreamConnectionOwner {
  /** Released connections, the most recent last: reusing the warmest one keeps the others free to time out. */
  private readonly idle: Http1UpstreamConnection[] = [];
  private readonly connections = new Set<Http1UpstreamConnection>();
  private closing = false;
  private readonly emptyWaiters: (() => void)[] = [];

  constructor(
    private readonly connect: UpstreamConnector,
    private readonly options: UpstreamConnectionOptions,
  ) {}

  /** Sends `request` on an idle connection, or on a new one; every outcome reaches `handler`. */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const now = performance.now();
    for (let connection = this.idle.pop(); connection !== undefined; connection = this.idle.pop()) {
      if (connection.reusable(now)) {
        connection.send(request, handler);
        return;
      }
      connection.destroy();
    }
    this.connect().then(
      (socket) => {
        const connection = new Http1UpstreamConnection(socket, this, this.options);
        this.connections.add(connection);
        connection.send(request, handler);
      },
      (error: Error) => handler.onError(error),
    );
  }

  released(connection: Http1UpstreamConnection): void {
    if (this.closing) connection.destroy();
    else this.idle.push(connection);
  }

  closed(connection: Http1UpstreamConnection): void {
    this.connections.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    if (this.connections.size === 0) for (const resolve of this.emptyWaiters.splice(0)) resolve();
  }

  /** Fails exchanges past their timeouts and closes idle connections past their keep-alive time. */
  checkTimeouts(nowMs: number, headersTimeoutMs: number, bodyTimeoutMs: number): void {
    for (const connection of this.idle) if (!connection.reusable(nowMs)) connection.destroy();
    for (const connection of this.connections) connection.checkTimeouts(nowMs, headersTimeoutMs, bodyTimeoutMs);
  }

  /** Open connections, idle or busy. */
  size(): number {
    return this.connections.size;
  }

  /** Closes idle connections now and busy ones when their exchange ends; resolves when none is left. */
  close(): Promise<void> {
    this.closing = true;
    for (const connection of this.idle.splice(0)) connection.destroy();
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.emptyWaiters.push(resolve);
    });
  }

  /** Closes every connection at once, failing the exchanges they carry. */
  destroy(): Promise<void> {
    const done = this.close();
    for (const connection of this.connections) connection.destroy();
    return done;
  }
}
