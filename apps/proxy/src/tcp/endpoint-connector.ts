// EndpointConnector: connects to one endpoint of a target, waiting for discovery and skipping failed endpoints, or fails fast.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  type Authority,
  type DiscoverEndpoints,
  type Endpoint,
  err,
  formatAuthority,
  formatDuration,
  formatSocketAddress,
  type Milliseconds,
  ok,
  type Result,
  type Subscription,
} from '@weft/core';
import type { BalancerLease, EndpointBalancer } from '../outbound/endpoint-balancer.js';
import type { MeshTlsClient } from '../tls/mesh-tls-client.js';
import { ConnectError, connectTcp } from '../transport/connect-tcp.js';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';

/** A client whose every offered endpoint has failed waits this long before trying one again, doubling to the max. */
export const RETRY_PAUSE_MS = { first: 100, max: 1_000 } as const;

export interface EndpointConnectorOptions {
  readonly target: Authority;
  /** The target's balancer; each connection attempt's outcome is recorded in it (failures make it back off). */
  readonly balancer: EndpointBalancer;
  /** Watched only to wake connections that wait for an endpoint when the target's endpoints change. */
  readonly discovery: DiscoverEndpoints;
  readonly connectTimeoutMs: Milliseconds;
  readonly failFastTimeoutMs: Milliseconds;
  /**
   * Endpoints with a TLS identity are reached through it: mTLS to their proxy's inbound port, then a transport header
   * for an opaque session. Without it every endpoint is reached in plaintext, as before.
   */
  readonly meshTls?: MeshTlsClient;
  readonly log?: TransportLog;
}

export interface EndpointSocket {
  readonly socket: Socket;
  readonly endpoint: Endpoint;
}

/** Why no endpoint could be reached: none came within the fail-fast timeout, or the caller gave up. */
export class EndpointUnavailableError extends Error {
  override readonly name = 'EndpointUnavailableError';

  constructor(
    readonly reason: 'fail-fast' | 'aborted',
    message: string,
    /** The system error of the last connection attempt, if one was made. */
    readonly errno?: string,
  ) {
    super(message);
  }
}

export class EndpointConnector {
  private readonly log: TransportLog;
  private readonly waiters = new Set<() => void>();
  private readonly subscription: Subscription;

  constructor(private readonly options: EndpointConnectorOptions) {
    this.log = options.log ?? silentTransportLog;
    // Deferred, so the balancer has applied the same update whatever order the watchers are told in.
    this.subscription = options.discovery.watch(options.target, () => setImmediate(() => this.wake()));
  }

  /**
   * A connected socket to one endpoint. Picks with the balancer and records each attempt's outcome there, so an
   * endpoint that refuses or times out (after connectTimeoutMs) is skipped while a healthy one exists. With no
   * endpoint it waits for discovery; when the balancer offers only endpoints that already failed for this client,
   * it pauses (RETRY_PAUSE_MS) before trying again. After failFastTimeoutMs in all it gives up.
   */
  async connect(signal?: AbortSignal): Promise<Result<EndpointSocket, EndpointUnavailableError>> {
    const started = performance.now();
    const deadline = started + this.options.failFastTimeoutMs;
    const tried = new Set<string>();
    let pauseMs: Milliseconds = RETRY_PAUSE_MS.first;
    let lastError: ConnectError | undefined;
    for (;;) {
      if (signal?.aborted) return err(new EndpointUnavailableError('aborted', 'the client went away while waiting'));
      if (deadline - performance.now() <= 0) return err(this.failFast(started, lastError));
      const lease = this.options.balancer.pick();
      if (!lease) {
        await this.waitForChange(deadline - performance.now(), signal);
        continue;
      }
      const key = formatSocketAddress(lease.endpoint.address);
      if (tried.has(key)) {
        // Every endpoint on offer has failed for this client: queue on this one a while (discovery may add others).
        await this.waitForChange(Math.min(pauseMs, deadline - performance.now()), signal);
        pauseMs = Math.min(pauseMs * 2, RETRY_PAUSE_MS.max);
        if (signal?.aborted || deadline - performance.now() <= 0) {
          // It failed for this client moments ago; recording that again is the truthful way to end the lease.
          lease.finish({ rttMs: this.options.connectTimeoutMs, failed: true });
          continue;
        }
      }
      tried.add(key);
      const outcome = await this.attempt(lease, deadline - performance.now(), signal);
      if (outcome instanceof ConnectError) lastError = outcome;
      else if (outcome) return ok(outcome);
    }
  }

  /** Stops watching discovery and wakes waiting connections; connections already made are not touched. */
  close(): void {
    this.subscription.close();
    this.wake();
  }

  /** One connection attempt; undefined when it was given up because the client went away. */
  private async attempt(
    lease: BalancerLease,
    remaining: Milliseconds,
    signal: AbortSignal | undefined,
  ): Promise<EndpointSocket | ConnectError | undefined> {
    const started = performance.now();
    try {
      const timeoutMs = Math.min(this.options.connectTimeoutMs, remaining);
      const { endpoint } = lease;
      const connectOptions = { timeoutMs, ...(signal ? { signal } : {}) };
      const { meshTls } = this.options;
      const socket = meshTls?.isMeshed(endpoint)
        ? await meshTls.connect(endpoint, 'opaque', connectOptions)
        : await connectTcp(endpoint.address, connectOptions);
      lease.finish({ rttMs: performance.now() - started, failed: false });
      return { socket, endpoint: lease.endpoint };
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      if (error.code === 'ABORTED') {
        lease.finish({ rttMs: performance.now() - started, failed: false });
        return undefined;
      }
      // A failed endpoint is charged a full connect timeout, so it is not preferred once its backoff ends.
      lease.finish({ rttMs: this.options.connectTimeoutMs, failed: true });
      this.log({
        event: 'endpoint_connect_failed',
        message: error.message,
        target: formatAuthority(this.options.target),
        endpoint: formatSocketAddress(lease.endpoint.address),
        errno: error.code,
      });
      return error;
    }
  }

  private failFast(started: number, lastError: ConnectError | undefined): EndpointUnavailableError {
    const waited = formatDuration(performance.now() - started);
    const target = formatAuthority(this.options.target);
    const message = lastError
      ? `no endpoint of ${target} accepted a connection within ${waited}; last error: ${lastError.message}`
      : `no endpoint of ${target} became available within ${waited} (discovery: ${this.options.balancer.state()})`;
    this.log({ event: 'endpoint_fail_fast', message, target, errno: lastError?.code });
    return new EndpointUnavailableError('fail-fast', message, lastError?.code);
  }

  /** Resolves when discovery changes the endpoints, `ms` pass, or `signal` aborts. */
  private waitForChange(ms: Milliseconds, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const done of [...this.waiters]) done();
  }
}
