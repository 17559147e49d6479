// LabelSeriesCache: the series each reused TrafficLabels / RouteLabels / AuthzLabels object records into, by object identity.
import {
  authzLabelSet,
  type AuthzLabels,
  type RecordedResponse,
  type RecordedTcpClose,
  routeLabelSet,
  type RouteLabels,
  trafficLabelSet,
  type TrafficLabels,
} from '@weft/core';
import type { FamilySeries, HistogramValue, Labels, ScalarValue } from './series-family.js';

/**
 * The outcomes (classification and status codes, or classification and errno) remembered per label object; a label
 * object seen with more goes on working, its further outcomes resolved on every call as if new.
 */
const MAX_CACHED_OUTCOMES = 64;

// Every field is there from the start, undefined until first resolved, so each kind of entry keeps one shape.

/** The series of one response outcome; each is resolved on the first recording that needs it. */
export interface ResponseSeries {
  total: FamilySeries<ScalarValue> | undefined;
  latency: FamilySeries<HistogramValue> | undefined;
}

/** The request counter and the response outcomes of one label object, whatever its kind. */
export interface RequestSeries {
  /** The flat label set of the object, built once. */
  readonly labels: Labels;
  request: FamilySeries<ScalarValue> | undefined;
  /** Keyed by `outcomeKey`; made on the first response. */
  responses: Map<number | string, ResponseSeries> | undefined;
}

/** What a route label object records into: its requests and responses, and those of its attempts (`route_actual_*`). */
export interface RouteSeries extends RequestSeries {
  actualRequest: FamilySeries<ScalarValue> | undefined;
  /** Keyed by `outcomeKey`; made on the first attempt's response. */
  actualResponses: Map<number | string, ResponseSeries> | undefined;
}

/** What a traffic label object records into. */
export interface TrafficSeries extends RequestSeries {
  tcpOpen: FamilySeries<ScalarValue> | undefined;
  openConnections: FamilySeries<ScalarValue> | undefined;
  readBytes: FamilySeries<ScalarValue> | undefined;
  writeBytes: FamilySeries<ScalarValue> | undefined;
  /** By classification, then errno; made on the first close. */
  closes: Map<string, Map<string | undefined, TcpCloseSeries>> | undefined;
}

export interface TcpCloseSeries {
  total: FamilySeries<ScalarValue> | undefined;
}

/** What an authorization label object records into: its allow and its deny counter. */
export interface AuthzSeries {
  readonly labels: Labels;
  allow: FamilySeries<ScalarValue> | undefined;
  deny: FamilySeries<ScalarValue> | undefined;
}

/**
 * The proxy hands the same TrafficLabels and RouteLabels objects to every request of an endpoint or route, so the
 * series they resolve to are kept per object: a repeated call builds no label set, sorts nothing and joins no
 * strings. A series is resolved, through the family's series limit, on the first call that records into it, exactly
 * when the uncached path would have, so the families admit the same label sets in the same order and the scrape reads
 * the same. A label set that overflowed stays in the overflow series, as it would uncached.
 *
 * This relies on label objects being readonly, as their types say: the series of an object are those of its values
 * at its first use, and the cache never looks at them again. A caller must make a new object for new values (nested
 * `tls` and `destination` objects included) rather than change one. The cache holds its keys weakly, so a label
 * object the proxy drops takes its entry with it.
 */
export class LabelSeriesCache {
  private readonly traffic = new WeakMap<TrafficLabels, TrafficSeries>();
  private readonly routes = new WeakMap<RouteLabels, RouteSeries>();
  private readonly authz = new WeakMap<AuthzLabels, AuthzSeries>();

  trafficSeries(labels: TrafficLabels): TrafficSeries {
    let series = this.traffic.get(labels);
    if (series === undefined) {
      series = {
        labels: trafficLabelSet(labels),
        request: undefined,
        responses: undefined,
        tcpOpen: undefined,
        openConnections: undefined,
        readBytes: undefined,
        writeBytes: undefined,
        closes: undefined,
      };
      this.traffic.set(labels, series);
    }
    return series;
  }

  routeSeries(labels: RouteLabels): RouteSeries {
    let series = this.routes.get(labels);
    if (series === undefined) {
      series = { labels: routeLabelSet(labels), request: undefined, responses: undefined, actualRequest: undefined, actualResponses: undefined };
      this.routes.set(labels, series);
    }
    return series;
  }

  authzSeries(labels: AuthzLabels): AuthzSeries {
    let series = this.authz.get(labels);
    if (series === undefined) {
      series = { labels: authzLabelSet(labels), allow: undefined, deny: undefined };
      this.authz.set(labels, series);
    }
    return series;
  }
}

/** The series of one response outcome of a label object, remembered while it has room for more outcomes. */
export function responseSeries(owner: RequestSeries, response: RecordedResponse): ResponseSeries {
  owner.responses ??= new Map();
  return entry(owner.responses, outcomeKey(response), emptyResponseSeries);
}

/** The `route_actual_*` series of one attempt outcome of a route label object, remembered the same way. */
export function actualResponseSeries(owner: RouteSeries, response: RecordedResponse): ResponseSeries {
  owner.actualResponses ??= new Map();
  return entry(owner.actualResponses, outcomeKey(response), emptyResponseSeries);
}

/** The `tcp_close_total` series of one close outcome (classification and errno) of a traffic label object. */
export function tcpCloseSeries(owner: TrafficSeries, close: RecordedTcpClose): TcpCloseSeries {
  owner.closes ??= new Map();
  return entry(entry(owner.closes, close.classification, emptyErrnoMap), close.errno, emptyTcpCloseSeries);
}

/**
 * One key per distinct `response_total` label set of an outcome: the classification and both codes packed in a
 * number in the usual case (a known classification and whole codes below 1023), else a string that spells them out.
 * Equal keys mean equal labels, which is all the cache needs; a number and a string never collide in a Map.
 */
function outcomeKey(response: Pick<RecordedResponse, 'classification' | 'statusCode' | 'grpcStatus'>): number | string {
  const classification = response.classification === 'success' ? 0 : response.classification === 'failure' ? 1 : -1;
  const status = codeSlot(response.statusCode);
  const grpc = codeSlot(response.grpcStatus);
  if (classification >= 0 && status >= 0 && grpc >= 0) return (classification * 1024 + status) * 1024 + grpc;
  return JSON.stringify([response.classification, labelOf(response.statusCode), labelOf(response.grpcStatus)]);
}

/** 0 for an absent code, code + 1 for a whole code in [0, 1022], else -1 (not packable). */
function codeSlot(code: number | undefined): number {
  if (code === undefined) return 0;
  return Number.isInteger(code) && code >= 0 && code < 1023 ? code + 1 : -1;
}

function labelOf(code: number | undefined): string | null {
  return code === undefined ? null : String(code);
}

/** The entry under `key`, made by `empty`; kept only while the map has room, so a map stays small. */
function entry<K, V>(map: Map<K, V>, key: K, empty: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = empty();
    if (map.size < MAX_CACHED_OUTCOMES) map.set(key, value);
  }
  return value;
}

function emptyResponseSeries(): ResponseSeries {
  return { total: undefined, latency: undefined };
}

function emptyErrnoMap(): Map<string | undefined, TcpCloseSeries> {
  return new Map();
}

function emptyTcpCloseSeries(): TcpCloseSeries {
  return { total: undefined };
}
