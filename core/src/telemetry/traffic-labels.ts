// The label sets of the proxy's traffic metrics, kept to Linkerd's names and bounded in cardinality.
export type TrafficDirection = 'inbound' | 'outbound';

/** Why a connection is not mutually authenticated, as reported in `no_tls_reason`. */
export type NoTlsReason = 'loopback' | 'port_skipped' | 'no_tls_from_remote' | 'not_provided_by_service_discovery';

export type TlsStatus =
  | { readonly tls: 'true'; readonly peerIdentity: string }
  | { readonly tls: 'no_identity'; readonly reason: NoTlsReason }
  | { readonly tls: 'opaque'; readonly sni?: string }
  | { readonly tls: 'disabled' };

export interface TrafficLabels {
  readonly direction: TrafficDirection;
  /** A canonical authority from discovery (e.g. `web.default.svc.cluster.local:80`); never a raw Host header. */
  readonly authority?: string;
  /** The `ip:port` the proxy connected to (outbound) or was connected on (inbound). */
  readonly targetAddr: string;
  readonly tls: TlsStatus;
  /** Metric labels of the destination endpoint from discovery; emitted with a `dst_` prefix. */
  readonly destination?: Readonly<Record<string, string>>;
}

export interface RouteLabels {
  readonly direction: TrafficDirection;
  /** The profile's fully qualified name with port, e.g. `books.default.svc.cluster.local:7000`. */
  readonly dst: string;
  /** The profile route's name; `default` for requests no route matched. */
  readonly route: string;
}

const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Turns a free-form key into a valid Prometheus label name. */
export function sanitizeLabelName(key: string): string {
  if (labelName.test(key)) return key;
  const cleaned = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** The flat label set of one traffic series, in Linkerd's names. */
export function trafficLabelSet(labels: TrafficLabels): Record<string, string> {
  const set: Record<string, string> = { direction: labels.direction };
  if (labels.authority !== undefined) set['authority'] = labels.authority;
  set['target_addr'] = labels.targetAddr;
  Object.assign(set, tlsLabelSet(labels.direction, labels.tls));
  Object.assign(set, destinationLabelSet(labels.destination ?? {}));
  return set;
}

/**
 * Destination labels with a `dst_` prefix. Keys that sanitise to the same name ("a-b", "a.b" and "a_b" all become
 * `dst_a_b`) would otherwise overwrite one another in whatever order discovery happened to list them, so one series
 * could flip between values. Instead one key wins regardless of that order: a key that is already a valid label name
 * ("a_b"), else the lowest key in code-unit order ("a-b" before "a.b"); the other keys are dropped. Suffixing them
 * ("dst_a_b_2") is not done, as a suffix would depend on which other keys are present and so rename series.
 */
function destinationLabelSet(destination: Readonly<Record<string, string>>): Record<string, string> {
  const set: Record<string, string> = {};
  const keys = Object.keys(destination).sort((a, b) => precedence(a) - precedence(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const name = `dst_${sanitizeLabelName(key)}`;
    if (!(name in set)) set[name] = destination[key] as string;
  }
  return set;
}

/** Valid names first, so a key written exactly as its label keeps its value. */
function precedence(key: string): number {
  return labelName.test(key) ? 0 : 1;
}

/** Accepting (inbound) sides name the client; connecting (outbound) sides name the server. */
export function tlsLabelSet(direction: TrafficDirection, status: TlsStatus): Record<string, string> {
  switch (status.tls) {
    case 'true':
      return { tls: 'true', [direction === 'inbound' ? 'client_id' : 'server_id']: status.peerIdentity };
    case 'no_identity':
      return { tls: 'no_identity', no_tls_reason: status.reason };
    case 'opaque':
      return status.sni === undefined ? { tls: 'opaque' } : { tls: 'opaque', sni: status.sni };
    case 'disabled':
      return { tls: 'disabled' };
  }
}

export function routeLabelSet(labels: RouteLabels): Record<string, string> {
  return { direction: labels.direction, dst: labels.dst, rt_route: labels.route };
}

/** The extra labels of `response_total`: how the exchange was classified and its status codes. */
export function responseOutcomeLabelSet(response: {
  readonly classification: string;
  readonly statusCode?: number;
  readonly grpcStatus?: number;
}): Record<string, string> {
  const set: Record<string, string> = { classification: response.classification };
  if (response.statusCode !== undefined) set['status_code'] = String(response.statusCode);
  if (response.grpcStatus !== undefined) set['grpc_status'] = String(response.grpcStatus);
  return set;
}

/** The extra labels of `tcp_close_total`. */
export function tcpCloseLabelSet(close: { readonly classification: string; readonly errno?: string }): Record<string, string> {
  return close.errno === undefined
    ? { classification: close.classification }
    : { classification: close.classification, errno: close.errno };
}
