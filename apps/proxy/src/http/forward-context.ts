// What every forwarded request shares: ports, pools, targets, options of one HTTP/1 proxy, and its tap (HTTP/2 too).
import type {
  Authority,
  CompiledProfileRoute,
  Endpoint,
  ProxyMetrics,
  RandomSource,
  RecordedResponse,
  RouteLabels,
  SocketAddress,
  TlsStatus,
  TrafficDirection,
  TrafficLabels,
} from '@weft/core';
import { classifyResponse, formatSocketAddress } from '@weft/core';
import { performance } from 'node:perf_hooks';
import type { InboundForwarding } from '../inbound/inbound-authorizer.js';
import type { BalancerLease } from '../outbound/endpoint-balancer.js';
import type { TapHeaders } from '../tap/tap-headers.js';
import type { TapHub, TapLabels, TapRequestInit } from '../tap/tap-hub.js';
import type { OutboundTarget } from './outbound-target.js';
import type { OutboundTargets } from './outbound-targets.js';
import { grpcStatusOf, headerSafe, PROXY_ERROR_HEADER, type ProxyErrorStatus } from './proxy-error.js';
import type { UpstreamPools } from './upstream-pools.js';
import { encodeGrpcMessage } from './grpc-message.js';

export interface ForwardOptions {
  /** How long a request waits for an endpoint before it fails with 503 (Linkerd: 3 s outbound, 1 s inbound). */
  readonly failFastMs: number;
  /** Request bodies up to this size are buffered so a retry can replay them; larger ones are never retried. */
  readonly maxReplayBodyBytes: number;
  /** Attempts per request at most, the first one included (retries, connect failures, keep-alive races). */
  readonly maxAttempts: number;
}

export interface ForwardContext {
  readonly direction: TrafficDirection;
  readonly metrics: ProxyMetrics;
  readonly random: RandomSource;
  readonly pools: UpstreamPools;
  /** Outbound only. */
  readonly targets: OutboundTargets | undefined;
  readonly options: ForwardOptions;
  readonly tls: TlsStatus;
  /** Inbound drops a client-supplied weft-client-id. */
  readonly stripClientId: boolean;
  /** Reused label sets of direct destinations (see OutboundTarget.labelsFor), keyed by address and authority. */
  readonly directLabels: Map<string, TrafficLabels>;
  /** Where requests are published while somebody taps; absent, nothing is. */
  readonly tap: TapHub | undefined;
  /** The connect-side TLS status of a balanced endpoint (mTLS on): `tls="true"` with `server_id` for meshed ones. */
  readonly connectTlsOf?: (endpoint: Endpoint) => TlsStatus;
}

/** What choosing an endpoint needs of a context; the HTTP/2 path shares it without HTTP/1's pools. */
export type EndpointChoiceContext = Pick<ForwardContext, 'direction' | 'random' | 'targets' | 'tls' | 'directLabels' | 'connectTlsOf'>;

/** Direct destinations remembered with their labels; the cache is dropped whole when it fills. */
const MAX_DIRECT_LABELS = 1_024;

/** Where one request goes: balanced over a logical authority's endpoints, or straight to one address. */
export type Http1Destination =
  | {
      readonly kind: 'balanced';
      readonly logical: OutboundTarget;
      /** The original destination, used if discovery turns out not to know the authority. */
      readonly fallback: SocketAddress | undefined;
    }
  | {
      readonly kind: 'direct';
      readonly address: SocketAddress;
      readonly authority: string | undefined;
      /** Inbound: the client's TLS status and verified identity, as authorization found them. */
      readonly inbound?: InboundForwarding;
    };

/** One endpoint chosen for one attempt. */
export interface ChosenEndpoint {
  readonly address: SocketAddress;
  readonly labels: TrafficLabels;
  readonly lease: BalancerLease | undefined;
}

/** Why no endpoint could be chosen right now. */
export type NoEndpoint = { readonly wait: true } | { readonly wait: false; readonly reason: string };

/** The traffic labels of an attempt; the authority only ever comes from discovery. */
export function trafficLabelsFor(
  context: EndpointChoiceContext,
  address: SocketAddress,
  authority: string | undefined,
  endpoint: Endpoint | undefined,
  tls: TlsStatus = context.tls,
): TrafficLabels {
  const base = { direction: context.direction, targetAddr: formatSocketAddress(address), tls };
  const withAuthority = authority === undefined ? base : { ...base, authority };
  return endpoint === undefined || Object.keys(endpoint.labels).length === 0
    ? withAuthority
    : { ...withAuthority, destination: endpoint.labels };
}

/** Picks the endpoint of the next attempt, or says whether to wait (discovery pending, all endpoints backing off). */
export function chooseEndpoint(context: EndpointChoiceContext, destination: Http1Destination): ChosenEndpoint | NoEndpoint {
  if (destination.kind === 'direct') {
    // Inbound requests are labelled with their client's TLS status: `tls="true"` and `client_id` for mesh peers.
    const tls = destination.inbound?.peerTls ?? context.tls;
    const key = `${formatSocketAddress(destination.address)}|${destination.authority ?? ''}|${tlsKeyOf(tls)}`;
    let labels = context.directLabels.get(key);
    if (labels === undefined) {
      if (context.directLabels.size >= MAX_DIRECT_LABELS) context.directLabels.clear();
      labels = trafficLabelsFor(context, destination.address, destination.authority, undefined, tls);
      context.directLabels.set(key, labels);
    }
    return { address: destination.address, labels, lease: undefined };
  }
  const { logical } = destination;
  const concreteAuthority: Authority | undefined = logical.pickConcrete(context.random);
  if (concreteAuthority === undefined) return { wait: false, reason: `traffic split of ${logical.canonical} has no backend with weight > 0` };
  const concrete = concreteAuthority === logical.authority || context.targets === undefined ? logical : context.targets.get(concreteAuthority);
  const lease = concrete.balancer.pick();
  if (lease === undefined) {
    if (concrete.balancer.state() === 'does-not-exist') return { wait: false, reason: `no service ${concrete.canonical} is known to discovery` };
    return { wait: true };
  }
  // Labels name the logical authority (the one the application asked for) and the concrete endpoint.
  const labels = logical.labelsFor(lease.endpoint, () =>
    trafficLabelsFor(context, lease.endpoint.address, logical.canonical, lease.endpoint, context.connectTlsOf?.(lease.endpoint)),
  );
  return { address: lease.endpoint.address, labels, lease };
}

/** The part of a direct destination's label key that tells TLS statuses apart. */
function tlsKeyOf(tls: TlsStatus): string {
  switch (tls.tls) {
    case 'true':
      return `true|${tls.peerIdentity}`;
    case 'no_identity':
      return tls.reason;
    case 'opaque':
      return `opaque|${tls.sni ?? ''}`;
    case 'disabled':
      return 'disabled';
  }
}

/** A destination, or the synthetic error that answers a request nobody can route. */
export type ResolvedDestination = Http1Destination | { readonly status: ProxyErrorStatus; readonly reason: string };

/**
 * Outbound routing of one request: the listener's fixed target, else the authority the request names (`host`: a Host
 * header or an HTTP/2 :authority), balanced when discovery knows it, else the original destination.
 */
export function resolveOutboundDestination(
  targets: OutboundTargets,
  connection: { readonly target?: Authority; readonly originalDst?: SocketAddress } | undefined,
  host: string | undefined,
): ResolvedDestination {
  const originalDst = connection?.originalDst;
  const authority = connection?.target ?? (host === undefined ? undefined : targets.parseHost(host, originalDst?.port ?? 80));
  if (authority === undefined) {
    if (originalDst !== undefined) return { kind: 'direct', address: originalDst, authority: undefined };
    return { status: 400, reason: 'the request names no destination this proxy can route (Host header)' };
  }
  const logical = targets.get(authority);
  if (logical.balancer.state() === 'does-not-exist') {
    if (originalDst !== undefined) return { kind: 'direct', address: originalDst, authority: undefined };
    return { status: 503, reason: `no service ${logical.canonical} is known to discovery` };
  }
  return { kind: 'balanced', logical, fallback: originalDst };
}

/** The metrics record of a response: errors fail, then the route's response class, then gRPC status, then 5xx. */
export function recordedResponse(
  route: CompiledProfileRoute | undefined,
  outcome: { readonly status: number | undefined; readonly grpcStatus: number | undefined; readonly error: string | undefined },
  latencyMs: number,
): RecordedResponse {
  const { status, grpcStatus, error } = outcome;
  const routeSaysFailure = status === undefined ? undefined : route?.responseClasses.find((c) => c.matches(status))?.isFailure;
  const classification = classifyResponse({
    ...(status === undefined ? {} : { httpStatus: status }),
    ...(grpcStatus === undefined ? {} : { grpcStatus }),
    ...(error === undefined ? {} : { error }),
    ...(routeSaysFailure === undefined ? {} : { routeSaysFailure }),
  });
  return {
    classification,
    latencyMs,
    ...(status === undefined ? {} : { statusCode: status }),
    ...(grpcStatus === undefined ? {} : { grpcStatus }),
  };
}

// ----- tap -----

/** What a request's responseEnd adds to what its RequestTap already counted. */
export interface RequestTapEnd {
  readonly grpcStatus?: number | undefined;
  readonly resetErrorCode?: number | undefined;
  /** Flat [name, value, ...] as forwarded; an empty list counts as none. */
  readonly trailers?: readonly string[] | undefined;
}

/** A request as tap describes it, less what RequestTap fills in itself. */
export type TapRequestFields = Omit<TapRequestInit, 'id' | 'direction' | 'source'>;

/**
 * The tap of one request, made only when `TapHub.isTapping()` said yes as the request arrived (so an untapped
 * request builds nothing). Its events reach the hub in order and at most once each, however often they are called:
 * requestInit once the destination is known (the first endpoint chosen, or the exchange ended without one), then
 * responseInit if a response head went out, then responseEnd. Times count from the arrival of the request head.
 */
export class RequestTap {
  /** Response body bytes sent to the client so far. */
  responseBytes = 0;
  private readonly id: number;
  private stage: 'arrived' | 'requested' | 'responded' | 'ended' = 'arrived';
  private respondedAt = 0;

  constructor(
    private readonly hub: TapHub,
    private readonly direction: TrafficDirection,
    /** The client's address, read while the connection was surely open. */
    private readonly source: SocketAddress,
    /** When the request head arrived (performance.now()). */
    private readonly startedAt: number,
  ) {
    this.id = hub.nextRequestId();
  }

  /** Whether requestInit went out. */
  get requested(): boolean {
    return this.stage !== 'arrived';
  }

  requestInit(fields: TapRequestFields): void {
    if (this.stage !== 'arrived') return;
    this.stage = 'requested';
    this.hub.requestInit({ ...fields, id: this.id, direction: this.direction, source: this.source });
  }

  responseInit(status: number, headers: TapHeaders): void {
    if (this.stage !== 'requested') return;
    this.stage = 'responded';
    this.respondedAt = performance.now();
    this.hub.responseInit({ id: this.id, sinceRequestInitMs: this.respondedAt - this.startedAt, status, headers });
  }

  /** The request is over; without a requestInit before it, there is nothing to end. */
  responseEnd(end: RequestTapEnd): void {
    if (this.stage !== 'requested' && this.stage !== 'responded') return;
    const now = performance.now();
    const responded = this.stage === 'responded';
    this.stage = 'ended';
    this.hub.responseEnd({
      id: this.id,
      sinceRequestInitMs: now - this.startedAt,
      sinceResponseInitMs: responded ? now - this.respondedAt : undefined,
      responseBytes: this.responseBytes,
      grpcStatus: end.grpcStatus,
      resetErrorCode: end.resetErrorCode,
      trailers: end.trailers !== undefined && end.trailers.length !== 0 ? end.trailers : undefined,
    });
  }

  /** Publishes the head and counts the body of a synthetic error (as sendProxyError and respondH2ProxyError write it). */
  syntheticResponse(status: ProxyErrorStatus, reason: string, grpc: boolean): void {
    const headers: Record<string, string> = { [PROXY_ERROR_HEADER]: headerSafe(reason) };
    if (grpc) {
      headers['content-type'] = 'application/grpc';
      headers['grpc-status'] = String(grpcStatusOf(status));
      headers['grpc-message'] = encodeGrpcMessage(reason);
      this.responseInit(200, headers);
      return;
    }
    const bytes = Buffer.byteLength(`${reason}\n`);
    headers['content-type'] = 'text/plain; charset=utf-8';
    headers['content-length'] = String(bytes);
    this.responseInit(status, headers);
    this.responseBytes += bytes;
  }
}

/** Unknown host part of a destination no endpoint was chosen for. */
const UNSPECIFIED_IP = '0.0.0.0';

/**
 * Where tap says a request went, with the labels of that place: the chosen endpoint; before any was chosen (failed
 * or abandoned while waiting), the direct address, else the original destination, else the logical authority's port.
 */
export function tapDestinationOf(
  destination: Http1Destination,
  chosen: ChosenEndpoint | undefined,
): Pick<TapRequestInit, 'destination' | 'destinationLabels'> {
  if (chosen !== undefined) return { destination: chosen.address, destinationLabels: chosen.labels.destination };
  if (destination.kind === 'direct') return { destination: destination.address };
  return { destination: destination.fallback ?? { ip: UNSPECIFIED_IP, port: destination.logical.authority.port } };
}

/** The route labels tap shows for a request a profile route matched; none for the default route. */
export function tapRouteLabelsOf(route: CompiledProfileRoute | undefined, labels: RouteLabels | undefined): TapLabels | undefined {
  return route === undefined || labels === undefined ? undefined : { dst: labels.dst, route: route.name };
}

/** The authority tap shows when the request named none: the one it was routed to, if any. */
export function tapAuthorityOf(destination: Http1Destination): string {
  return destination.kind === 'balanced' ? destination.logical.canonical : (destination.authority ?? '');
}
