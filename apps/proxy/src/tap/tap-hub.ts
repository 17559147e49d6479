// TapHub: where the HTTP paths publish request events, fanned out to the tap observers attached at that moment.
import type { SocketAddress, Subscription, TrafficDirection } from '@weft/core';
import { TapHeaderDenyList } from './tap-header-deny-list.js';
import type { TapHeaders } from './tap-headers.js';

/** Labels of a client, a server endpoint or a route, e.g. { namespace: "shop", pod: "web-1" }. */
export type TapLabels = Readonly<Record<string, string>>;

/** A request's headers have arrived. */
export interface TapRequestInit {
  /** Unique among the requests in flight in this proxy; TapHub.nextRequestId() hands them out. */
  readonly id: number;
  readonly direction: TrafficDirection;
  /** The client's address. */
  readonly source: SocketAddress;
  /** The server's address: the endpoint (outbound) or the application (inbound). */
  readonly destination: SocketAddress;
  readonly method: string;
  /** "http" or "https". */
  readonly scheme: string;
  /** Host, and the port if the client sent one. */
  readonly authority: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: TapHeaders;
  readonly sourceLabels?: TapLabels | undefined;
  readonly routeLabels?: TapLabels | undefined;
  readonly destinationLabels?: TapLabels | undefined;
}

/** The response headers of request `id` have arrived. */
export interface TapResponseInit {
  readonly id: number;
  readonly sinceRequestInitMs: number;
  readonly status: number;
  readonly headers: TapHeaders;
}

/** Request `id` is over: its response ended, or the exchange failed (then without sinceResponseInitMs). */
export interface TapResponseEnd {
  readonly id: number;
  readonly sinceRequestInitMs: number;
  /** Absent when no response started. */
  readonly sinceResponseInitMs?: number | undefined;
  /** Response body bytes received. */
  readonly responseBytes: number;
  /** From the grpc-status trailer (or header of a trailers-only response). */
  readonly grpcStatus?: number | undefined;
  /** The HTTP/2 RST_STREAM code, or 0 when the connection failed without one; wins over grpcStatus. */
  readonly resetErrorCode?: number | undefined;
  readonly trailers?: TapHeaders | undefined;
}

/** What the hub calls for each event; implementations must be quick and keep no reference to the headers. */
export interface TapHubObserver {
  requestInit(event: TapRequestInit): void;
  responseInit(event: TapResponseInit): void;
  responseEnd(event: TapResponseEnd): void;
  /** The hub detached this observer because one of its methods threw. */
  failed?(error: unknown): void;
}

export interface TapHubOptions {
  /** Headers never sent through tap; the built-in credential list when absent (see parseTapDenyHeaders). */
  readonly denyList?: TapHeaderDenyList;
  /** Told when an observer throws; the data path never sees the error. */
  readonly onObserverError?: (error: unknown) => void;
}

/**
 * One per proxy. Callers check `isTapping()` first and build the event only when it says yes, so an
 * untapped proxy pays one array-length read per request. Publishing never throws and never waits:
 * observers copy what they need and write to their streams later.
 */
export class TapHub {
  readonly denyList: TapHeaderDenyList;
  // Replaced, never mutated, so that attaching or detaching during a publish leaves that publish's loop intact.
  private observers: readonly TapHubObserver[] = [];
  private lastRequestId = 0;
  private readonly onObserverError: (error: unknown) => void;

  constructor(options: TapHubOptions = {}) {
    this.denyList = options.denyList ?? TapHeaderDenyList.DEFAULT;
    this.onObserverError = options.onObserverError ?? (() => undefined);
  }

  /** Whether anybody is observing; when false, skip building events altogether. */
  isTapping(): boolean {
    return this.observers.length !== 0;
  }

  /** How many observers are attached. */
  get observerCount(): number {
    return this.observers.length;
  }

  /** A fresh request id (a safe integer; wraps long before precision is lost). */
  nextRequestId(): number {
    this.lastRequestId = this.lastRequestId >= Number.MAX_SAFE_INTEGER ? 1 : this.lastRequestId + 1;
    return this.lastRequestId;
  }

  requestInit(event: TapRequestInit): void {
    for (const observer of this.observers) this.deliver(observer, () => observer.requestInit(event));
  }

  responseInit(event: TapResponseInit): void {
    for (const observer of this.observers) this.deliver(observer, () => observer.responseInit(event));
  }

  responseEnd(event: TapResponseEnd): void {
    for (const observer of this.observers) this.deliver(observer, () => observer.responseEnd(event));
  }

  /** Attaches an observer until the subscription is closed. */
  attach(observer: TapHubObserver): Subscription {
    this.observers = [...this.observers, observer];
    return { close: () => this.detach(observer) };
  }

  private detach(observer: TapHubObserver): void {
    if (this.observers.includes(observer)) this.observers = this.observers.filter((each) => each !== observer);
  }

  private deliver(observer: TapHubObserver, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.detach(observer);
      this.report(error);
      try {
        observer.failed?.(error);
      } catch (secondError) {
        this.report(secondError);
      }
    }
  }

  private report(error: unknown): void {
    try {
      this.onObserverError(error);
    } catch {
      // A broken error reporter must not reach the data path either.
    }
  }
}
