// What every forwarded request shares: ports, pools, targets and the options of one HTTP/1 proxy.
import type {
  Authority,
  CompiledProfileRoute,
  Endpoint,
  ProxyMetrics,
  RandomSource,
  RecordedResponse,
  SocketAddress,
  TlsStatus,
  TrafficDirection,
  TrafficLabels,
} from '@weft/core';
import { classifyResponse, formatSocketAddress } from '@weft/core';
import type { BalancerLease } from '../outbound/endpoint-balancer.js';
import type { OutboundTarget } from './outbound-target.js';
import type { OutboundTargets } from './outbound-targets.js';
import type { ProxyErrorStatus } from './proxy-error.js';
import type { UpstreamPools } from './upstream-pools.js';

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
}

/** What choosing an endpoint needs of a context; the HTTP/2 path shares it without HTTP/1's pools. */
export type EndpointChoiceContext = Pick<ForwardContext, 'direction' | 'random' | 'targets' | 'tls' | 'directLabels'>;

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
  | { readonly kind: 'direct'; readonly address: SocketAddress; readonly authority: string | undefined };

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
): TrafficLabels {
  const base = { direction: context.direction, targetAddr: formatSocketAddress(address), tls: context.tls };
  const withAuthority = authority === undefined ? base : { ...base, authority };
  return endpoint === undefined || Object.keys(endpoint.labels).length === 0
    ? withAuthority
    : { ...withAuthority, destination: endpoint.labels };
}

/** Picks the endpoint of the next attempt, or says whether to wait (discovery pending, all endpoints backing off). */
export function chooseEndpoint(context: EndpointChoiceContext, destination: Http1Destination): ChosenEndpoint | NoEndpoint {
  if (destination.kind === 'direct') {
    const key = `${formatSocketAddress(destination.address)}|${destination.authority ?? ''}`;
    let labels = context.directLabels.get(key);
    if (labels === undefined) {
      if (context.directLabels.size >= MAX_DIRECT_LABELS) context.directLabels.clear();
      labels = trafficLabelsFor(context, destination.address, destination.authority, undefined);
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
  const labels = logical.labelsFor(lease.endpoint, () => trafficLabelsFor(context, lease.endpoint.address, logical.canonical, lease.endpoint));
  return { address: lease.endpoint.address, labels, lease };
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
