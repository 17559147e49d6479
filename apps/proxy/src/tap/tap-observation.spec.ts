import { tap } from '@weft/contracts';
import { describe, expect, it } from 'vitest';
import { TapHeaderDenyList } from './tap-header-deny-list.js';
import { tapHeaderPicker } from './tap-headers.js';
import { TapHub, type TapRequestInit } from './tap-hub.js';
import { type TapEventSink, TapObservation } from './tap-observation.js';

class RecordingSink implements TapEventSink {
  readonly events: tap.TapEvent[] = [];
  completed = 0;
  aborted = 0;
  send(event: tap.TapEvent): void {
    this.events.push(event);
  }
  complete(): void {
    this.completed += 1;
  }
  abort(): void {
    this.aborted += 1;
  }
}

function observing(limit: number, matches: (request: TapRequestInit) => boolean = () => true) {
  const hub = new TapHub();
  const sink = new RecordingSink();
  hub.attach(new TapObservation({ base: 9, limit, matches, pickHeaders: tapHeaderPicker([], TapHeaderDenyList.DEFAULT) }, sink));
  return { hub, sink };
}

function init(hub: TapHub, path: string): number {
  const id = hub.nextRequestId();
  hub.requestInit({
    id,
    direction: 'outbound',
    source: { ip: '10.0.0.1', port: 40_000 },
    destination: { ip: '10.0.0.2', port: 80 },
    method: 'GET',
    scheme: 'http',
    authority: 'web',
    path,
    headers: {},
  });
  return id;
}

describe('TapObservation', () => {
  it('completes once the limit is reached and every observed request has ended', () => {
    const { hub, sink } = observing(1);
    const id = init(hub, '/a');
    init(hub, '/b');
    expect(sink.completed).toBe(0);

    hub.responseEnd({ id, sinceRequestInitMs: 1, responseBytes: 10 });

    expect(sink.completed).toBe(1);
    expect(sink.events.map((event) => event.httpEvent?.$case)).toEqual(['requestInit', 'responseEnd']);
  });

  it('ignores responses of requests it does not observe', () => {
    const { hub, sink } = observing(5, (request) => request.path === '/mine');
    const other = init(hub, '/other');

    hub.responseInit({ id: other, sinceRequestInitMs: 1, status: 200, headers: {} });
    hub.responseEnd({ id: other, sinceRequestInitMs: 1, responseBytes: 1 });
    hub.responseEnd({ id: 12_345, sinceRequestInitMs: 1, responseBytes: 1 });

    expect(sink.events).toEqual([]);
  });

  it('turns nonsense numbers from the data path into zeros instead of failing', () => {
    const { hub, sink } = observing(1);
    const id = init(hub, '/a');

    hub.responseInit({ id, sinceRequestInitMs: Number.NaN, status: -1, headers: {} });
    hub.responseEnd({ id, sinceRequestInitMs: Number.POSITIVE_INFINITY, sinceResponseInitMs: -3, responseBytes: 1.5, grpcStatus: 2.5 });

    expect(sink.aborted).toBe(0);
    expect(sink.events[1]?.httpEvent?.value).toMatchObject({ sinceRequestInit: { seconds: 0n, nanos: 0 }, httpStatus: 0 });
    expect(sink.events[2]?.httpEvent?.value).toMatchObject({ responseBytes: 0n, eos: { $case: 'grpcStatusCode', value: 0 } });
    // Every event still encodes.
    for (const event of sink.events) expect(() => tap.TapEvent.encode(event).finish()).not.toThrow();
  });

  it('ends its stream with an error, and leaves the hub, when it breaks on an event', () => {
    const { hub, sink } = observing(1, () => {
      throw new Error('a broken match');
    });

    expect(() => init(hub, '/a')).not.toThrow();

    expect(sink.aborted).toBe(1);
    expect(hub.isTapping()).toBe(false);
  });
});
