// Test observer for the tap specs: attached to a TapHub, it keeps a copy of every event, headers picked as tap would.
import { TapHeaderDenyList } from '../tap/tap-header-deny-list.js';
import { tapHeaderPicker } from '../tap/tap-headers.js';
import type { TapHub, TapHubObserver, TapRequestInit, TapResponseEnd, TapResponseInit } from '../tap/tap-hub.js';

/** Headers by name; repeated names joined with ", ". */
export type RecordedHeaders = Record<string, string>;

export type RecordedTapEvent =
  | ({ readonly kind: 'requestInit' } & Omit<TapRequestInit, 'headers'> & { readonly headers: RecordedHeaders })
  | ({ readonly kind: 'responseInit' } & Omit<TapResponseInit, 'headers'> & { readonly headers: RecordedHeaders })
  | ({ readonly kind: 'responseEnd' } & Omit<TapResponseEnd, 'trailers'> & { readonly trailers: RecordedHeaders | undefined });

const pickAll = tapHeaderPicker(['*'], TapHeaderDenyList.DEFAULT);

function copy(headers: Parameters<typeof pickAll>[0]): RecordedHeaders {
  const out: RecordedHeaders = {};
  for (const { name, value } of pickAll(headers)) out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  return out;
}

export class TapRecorder implements TapHubObserver {
  readonly events: RecordedTapEvent[] = [];

  requestInit(event: TapRequestInit): void {
    this.events.push({ ...event, kind: 'requestInit', headers: copy(event.headers) });
  }

  responseInit(event: TapResponseInit): void {
    this.events.push({ ...event, kind: 'responseInit', headers: copy(event.headers) });
  }

  responseEnd(event: TapResponseEnd): void {
    this.events.push({ ...event, kind: 'responseEnd', trailers: event.trailers === undefined ? undefined : copy(event.trailers) });
  }

  /** How many requests ended. */
  get endedCount(): number {
    return this.events.filter((event) => event.kind === 'responseEnd').length;
  }

  /** Waits until `count` requests ended (or `ms` passed), then a little more so that a second end would show. */
  async waitForEnds(count: number, ms = 5_000): Promise<void> {
    const start = Date.now();
    while (this.endedCount < count && Date.now() - start < ms) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** The events of the one request published, checking there was exactly one. */
  only(): { init: RecordedTapEvent & { kind: 'requestInit' }; kinds: string[]; events: RecordedTapEvent[] } {
    const inits = this.events.filter((event) => event.kind === 'requestInit');
    if (inits.length !== 1) throw new Error(`expected one request, saw ${inits.length}: ${JSON.stringify(this.events.map((e) => e.kind))}`);
    const init = inits[0] as RecordedTapEvent & { kind: 'requestInit' };
    const events = this.events.filter((event) => event.id === init.id);
    return { init, kinds: events.map((event) => event.kind), events };
  }

  responseInitOf(id: number): (RecordedTapEvent & { kind: 'responseInit' }) | undefined {
    return this.events.find((event): event is RecordedTapEvent & { kind: 'responseInit' } => event.kind === 'responseInit' && event.id === id);
  }

  responseEndOf(id: number): (RecordedTapEvent & { kind: 'responseEnd' }) | undefined {
    return this.events.find((event): event is RecordedTapEvent & { kind: 'responseEnd' } => event.kind === 'responseEnd' && event.id === id);
  }

  /** Attaches to `hub`; returns the recorder. */
  static on(hub: TapHub): TapRecorder {
    const recorder = new TapRecorder();
    hub.attach(recorder);
    return recorder;
  }
}
