// One Observe call's view of the hub: picks matching requests up to the limit and turns their events into TapEvents.
import { durationFromMillis, tap } from '@weft/contracts';
import type { TapHeaderPicker } from './tap-headers.js';
import type { TapHubObserver, TapLabels, TapRequestInit, TapResponseEnd, TapResponseInit } from './tap-hub.js';
import type { TapRequestPredicate } from './tap-match.js';

/** Where an observation's events go; the gRPC stream in production. */
export interface TapEventSink {
  /** Queues one event; never blocks. */
  send(event: tap.TapEvent): void;
  /** Every observed request has ended; the sink ends the stream once its queue is written. */
  complete(): void;
  /** The observation broke (a bug); the sink ends the stream with an error. */
  abort(): void;
}

export interface TapObservationSpec {
  /** StreamId.base of every event of this observation. */
  readonly base: number;
  /** Requests to observe, at least 1. */
  readonly limit: number;
  readonly matches: TapRequestPredicate;
  readonly pickHeaders: TapHeaderPicker;
}

/** The fields every event of one request repeats, built once at RequestInit. */
type EventCommon = Omit<tap.TapEvent, 'httpEvent'>;

interface ObservedRequest {
  readonly id: tap.StreamId;
  readonly common: EventCommon;
}

export class TapObservation implements TapHubObserver {
  private observed = 0;
  // Keyed by the hub's request id; holds only requests of this observation still in flight.
  private readonly inFlight = new Map<number, ObservedRequest>();

  constructor(
    private readonly spec: TapObservationSpec,
    private readonly sink: TapEventSink,
  ) {}

  requestInit(event: TapRequestInit): void {
    if (this.observed >= this.spec.limit || !this.spec.matches(event)) return;
    const request: ObservedRequest = { id: { base: this.spec.base, stream: BigInt(this.observed) }, common: commonOf(event) };
    this.observed += 1;
    this.inFlight.set(event.id, request);
    const { method, scheme, authority, path } = event;
    const headers = this.spec.pickHeaders(event.headers);
    this.sink.send({ ...request.common, httpEvent: { $case: 'requestInit', value: { id: request.id, method, scheme, authority, path, headers } } });
  }

  responseInit(event: TapResponseInit): void {
    const request = this.inFlight.get(event.id);
    if (request === undefined) return;
    const value: tap.ResponseInit = {
      id: request.id,
      sinceRequestInit: durationOf(event.sinceRequestInitMs),
      httpStatus: uint32(event.status),
      headers: this.spec.pickHeaders(event.headers),
    };
    this.sink.send({ ...request.common, httpEvent: { $case: 'responseInit', value } });
  }

  responseEnd(event: TapResponseEnd): void {
    const request = this.inFlight.get(event.id);
    if (request === undefined) return;
    this.inFlight.delete(event.id);
    const value: tap.ResponseEnd = {
      id: request.id,
      sinceRequestInit: durationOf(event.sinceRequestInitMs),
      sinceResponseInit: event.sinceResponseInitMs === undefined ? undefined : durationOf(event.sinceResponseInitMs),
      responseBytes: BigInt(uint64(event.responseBytes)),
      eos: endOfStream(event),
      trailers: this.spec.pickHeaders(event.trailers),
    };
    this.sink.send({ ...request.common, httpEvent: { $case: 'responseEnd', value } });
    if (this.observed >= this.spec.limit && this.inFlight.size === 0) this.sink.complete();
  }

  failed(): void {
    this.inFlight.clear();
    this.sink.abort();
  }
}

function commonOf(event: TapRequestInit): EventCommon {
  return {
    source: { ip: event.source.ip, port: event.source.port },
    sourceLabels: labels(event.sourceLabels),
    destination: { ip: event.destination.ip, port: event.destination.port },
    destinationLabels: labels(event.destinationLabels),
    routeLabels: labels(event.routeLabels),
    direction: event.direction === 'inbound' ? tap.ProxyDirection.PROXY_DIRECTION_INBOUND : tap.ProxyDirection.PROXY_DIRECTION_OUTBOUND,
  };
}

function endOfStream(event: TapResponseEnd): tap.ResponseEnd['eos'] {
  if (event.resetErrorCode !== undefined) return { $case: 'resetErrorCode', value: uint32(event.resetErrorCode) };
  if (event.grpcStatus !== undefined) return { $case: 'grpcStatusCode', value: uint32(event.grpcStatus) };
  return undefined;
}

const noLabels: Readonly<Record<string, string>> = {};

// The generated encoder only reads the map, so the caller's object is shared rather than copied.
function labels(given: TapLabels | undefined): { [key: string]: string } {
  return (given ?? noLabels) as { [key: string]: string };
}

// Values from the data path are trusted but not assumed sane: a NaN must not make the encoder throw.
function durationOf(ms: number): tap.ResponseInit['sinceRequestInit'] {
  return durationFromMillis(Number.isFinite(ms) && ms > 0 ? ms : 0);
}

function uint32(value: number): number {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff ? value : 0;
}

function uint64(value: number): number {
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}
