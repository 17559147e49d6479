import type { Subscription } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { TapHub, type TapHubObserver, type TapRequestInit } from './tap-hub.js';

const init: TapRequestInit = {
  id: 1,
  direction: 'inbound',
  source: { ip: '10.0.0.1', port: 40_000 },
  destination: { ip: '127.0.0.1', port: 8080 },
  method: 'GET',
  scheme: 'http',
  authority: 'web',
  path: '/',
  headers: {},
};

function recorder(seen: string[], name: string): TapHubObserver {
  return {
    requestInit: (event) => seen.push(`${name} init ${event.id}`),
    responseInit: (event) => seen.push(`${name} response ${event.id}`),
    responseEnd: (event) => seen.push(`${name} end ${event.id}`),
  };
}

describe('TapHub', () => {
  it('is tapping exactly while an observer is attached', () => {
    const hub = new TapHub();
    expect(hub.isTapping()).toBe(false);

    const subscription = hub.attach(recorder([], 'a'));
    expect(hub.isTapping()).toBe(true);

    subscription.close();
    subscription.close();
    expect(hub.isTapping()).toBe(false);
    expect(hub.observerCount).toBe(0);
  });

  it('hands every event to each attached observer', () => {
    const hub = new TapHub();
    const seen: string[] = [];
    hub.attach(recorder(seen, 'a'));
    hub.attach(recorder(seen, 'b'));

    hub.requestInit(init);
    hub.responseInit({ id: 1, sinceRequestInitMs: 1, status: 200, headers: {} });
    hub.responseEnd({ id: 1, sinceRequestInitMs: 2, responseBytes: 0 });

    expect(seen).toEqual(['a init 1', 'b init 1', 'a response 1', 'b response 1', 'a end 1', 'b end 1']);
  });

  it('keeps an observer that throws away from the caller and from the others, and detaches it', () => {
    const errors: unknown[] = [];
    const failures: unknown[] = [];
    const hub = new TapHub({ onObserverError: (error) => errors.push(error) });
    const seen: string[] = [];
    const broken = new Error('broken observer');
    hub.attach({ ...recorder(seen, 'bad'), requestInit: () => { throw broken; }, failed: (error) => failures.push(error) });
    hub.attach(recorder(seen, 'good'));

    expect(() => hub.requestInit(init)).not.toThrow();
    hub.responseEnd({ id: 1, sinceRequestInitMs: 2, responseBytes: 0 });

    expect(seen).toEqual(['good init 1', 'good end 1']);
    expect(errors).toEqual([broken]);
    expect(failures).toEqual([broken]);
    expect(hub.observerCount).toBe(1);
  });

  it('survives an error reporter and a failed() that throw as well', () => {
    const hub = new TapHub({ onObserverError: () => { throw new Error('reporter'); } });
    hub.attach({ ...recorder([], 'bad'), requestInit: () => { throw new Error('observer'); }, failed: () => { throw new Error('failed'); } });

    expect(() => hub.requestInit(init)).not.toThrow();
    expect(hub.isTapping()).toBe(false);
  });

  it('finishes a publish for every observer even when one detaches another during it', () => {
    const hub = new TapHub();
    const seen: string[] = [];
    const attached: { second?: Subscription } = {};
    hub.attach({ ...recorder(seen, 'first'), requestInit: (event) => { seen.push(`first init ${event.id}`); attached.second?.close(); } });
    attached.second = hub.attach(recorder(seen, 'second'));

    hub.requestInit(init);
    hub.requestInit({ ...init, id: 2 });

    expect(seen).toEqual(['first init 1', 'second init 1', 'first init 2']);
  });

  it('hands out distinct request ids', () => {
    const hub = new TapHub();
    const ids = Array.from({ length: 1_000 }, () => hub.nextRequestId());
    expect(new Set(ids).size).toBe(1_000);
    expect(ids.every((id) => Number.isSafeInteger(id) && id > 0)).toBe(true);
  });
});
