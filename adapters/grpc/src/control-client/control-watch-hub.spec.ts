import { EventEmitter } from 'node:events';
import { type ClientReadableStream, status } from '@grpc/grpc-js';
import { err, ok, type Result } from '@weft/core';
import { describe, expect, it } from 'vitest';
import type { ControlClientSettings } from './control-channel.js';
import { ControlClientRecorder } from './control-plane.spec-helper.js';
import { ControlWatchHub, reasonOf, type WatchedState } from './control-watch-hub.js';
import { InvalidWireMessageError } from './invalid-wire-message-error.js';
import { ManualTime } from './manual-time.spec-helper.js';

class FakeCall extends EventEmitter {
  cancelled = false;

  cancel(): void {
    this.cancelled = true;
    this.emit('error', { code: status.CANCELLED, details: 'Cancelled on client' });
  }

  send(message: string): void {
    this.emit('data', message);
  }

  failWith(code: status, details = 'no connection'): void {
    this.emit('error', { code, details });
  }
}

/** The state of one key: the last value, sent again only when it changes; "bad" is refused. */
class LastValue implements WatchedState<string, string> {
  held: string | undefined;
  readonly calls: FakeCall[] = [];

  open(): ClientReadableStream<string> {
    const call = new FakeCall();
    this.calls.push(call);
    return call as unknown as ClientReadableStream<string>;
  }

  receive(message: string): Result<readonly string[], InvalidWireMessageError> {
    if (message === 'bad') return err(new InvalidWireMessageError('value', message, 'is refused by this test'));
    if (message === this.held) return ok([]);
    this.held = message;
    return ok([message]);
  }

  snapshot(): string | undefined {
    return this.held;
  }

  expire(): { readonly messages: readonly string[]; readonly replacement: string } {
    this.held = 'expired';
    return { messages: ['expired'], replacement: 'expired' };
  }

  get last(): FakeCall {
    const call = this.calls.at(-1);
    if (call === undefined) throw new Error('no stream was opened');
    return call;
  }
}

const ttlMs = 60_000;

function setup(onRefused: 'skip' | 'restart' = 'skip', random = 0.5) {
  const time = new ManualTime();
  const recorder = new ControlClientRecorder();
  const settings: ControlClientSettings = {
    address: '127.0.0.1:8086',
    backoff: { initialMs: 100, maxMs: 1_000, jitter: 0.5 },
    lastKnownTtlMs: ttlMs,
    clock: time,
    random: { next: () => random },
    timers: time,
    metrics: recorder,
    log: recorder.log,
  };
  const hub = new ControlWatchHub<string, string>({ settings, labels: { service: 'destination', rpc: 'GetProfile' }, onRefused });
  const state = new LastValue();
  const received: string[] = [];
  const watch = (into: string[] = received) => hub.watch('web:80', () => state, (message) => into.push(message));
  return { time, recorder, hub, state, received, watch };
}

describe('ControlWatchHub', () => {
  it('opens one stream per key, shared by its listeners; a listener that joins gets the state at once', () => {
    const { state, received, watch } = setup();
    watch();
    state.last.send('v1');
    const late: string[] = [];
    watch(late);
    expect(late).toEqual(['v1']);
    state.last.send('v2');
    expect(state.calls).toHaveLength(1);
    expect(received).toEqual(['v1', 'v2']);
    expect(late).toEqual(['v1', 'v2']);
  });

  it('keeps the state across a broken stream, retries after a jittered delay and delivers only what changed', () => {
    const { time, recorder, state, received, watch } = setup('skip', 0.5);
    watch();
    state.last.send('v1');
    state.last.failWith(status.UNAVAILABLE);
    expect(received).toEqual(['v1']);
    // 100 ms with half of it random: 100 * (1 - 0.5 * 0.5).
    expect(time.delays).toContain(75);
    time.advance(74);
    expect(state.calls).toHaveLength(1);
    time.advance(1);
    expect(state.calls).toHaveLength(2);
    state.last.send('v1');
    expect(received).toEqual(['v1']);
    state.last.send('v2');
    expect(received).toEqual(['v1', 'v2']);
    expect(recorder.connected.map((connected) => connected.reconnect)).toEqual([false, true]);
    expect(recorder.errors.map((error) => error.reason)).toEqual(['unavailable']);
    expect(recorder.eventsOf('control-stream-failed')[0]).toMatchObject({ reason: 'unavailable', retryInMs: 75, stale: true });
    expect(recorder.eventsOf('control-stream-restored')[0]).toMatchObject({ attempts: 1, staleForMs: 75 });
  });

  it('doubles the delay on each failed attempt up to the maximum, and starts over once a stream is served', () => {
    const { time, state, watch } = setup('skip', 0);
    watch();
    for (let attempt = 0; attempt < 6; attempt += 1) {
      state.last.failWith(status.UNAVAILABLE);
      time.advance(1_000);
    }
    expect(time.delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    state.last.send('v1');
    state.last.failWith(status.UNAVAILABLE);
    const retries = time.delays.filter((delay) => delay < ttlMs);
    expect(retries.at(-1)).toBe(100);
  });

  it('retries a stream the server ended without an error', () => {
    const { time, recorder, state, watch } = setup();
    watch();
    state.last.send('v1');
    state.last.emit('end');
    time.advance(100);
    expect(state.calls).toHaveLength(2);
    expect(recorder.errors.map((error) => error.reason)).toEqual(['ended']);
  });

  it('replaces state the control plane has not confirmed for the time to live, and says so', () => {
    const { time, recorder, state, received, watch } = setup();
    watch();
    state.last.send('v1');
    state.last.failWith(status.UNAVAILABLE);
    for (let waited = 0; waited < ttlMs - 1_000; waited += 1_000) {
      time.advance(1_000);
      state.last.failWith(status.UNAVAILABLE);
    }
    expect(received).toEqual(['v1']);
    time.advance(1_000);
    expect(received).toEqual(['v1', 'expired']);
    expect(recorder.expired).toHaveLength(1);
    expect(recorder.eventsOf('control-state-expired')[0]).toMatchObject({ ttlMs, listeners: 1, replacement: 'expired' });
    // It keeps trying, and the control plane's word replaces the expiry as soon as it comes back.
    time.advance(1_000);
    state.last.send('v2');
    expect(received).toEqual(['v1', 'expired', 'v2']);
  });

  it('does not expire state while a stream serves it, however long', () => {
    const { time, state, received, watch } = setup();
    watch();
    state.last.send('v1');
    time.advance(ttlMs * 10);
    expect(received).toEqual(['v1']);
    expect(time.pending()).toBe(0);
  });

  it('cancels the stream when the last listener leaves, and remembers the state for the time to live', () => {
    const { time, recorder, state, watch } = setup();
    const subscription = watch();
    state.last.send('v1');
    subscription.close();
    expect(state.last.cancelled).toBe(true);
    time.advance(ttlMs / 2);
    const back: string[] = [];
    watch(back);
    expect(back).toEqual(['v1']);
    expect(state.calls).toHaveLength(2);
    // The control plane is away: the remembered state still expires on time, counted from when it was last confirmed.
    state.last.failWith(status.UNAVAILABLE);
    time.advance(ttlMs / 2 - 1);
    expect(back).toEqual(['v1']);
    time.advance(1);
    expect(back).toEqual(['v1', 'expired']);
    expect(recorder.expired).toHaveLength(1);
  });

  it('forgets the state of a key nobody watched for the time to live', () => {
    const { hub, time, recorder, state, watch } = setup();
    const first = watch();
    state.last.send('v1');
    first.close();
    time.advance(ttlMs);
    expect(recorder.eventsOf('control-state-expired')[0]).toMatchObject({ listeners: 0, replacement: 'forgotten' });
    const fresh = new LastValue();
    const next: string[] = [];
    hub.watch('web:80', () => fresh, (message) => next.push(message));
    expect(next).toEqual([]);
    expect(fresh.calls).toHaveLength(1);
  });

  it('skips a refused message of a whole-state stream and keeps the stream', () => {
    const { recorder, state, received, watch } = setup('skip');
    watch();
    state.last.send('v1');
    state.last.send('bad');
    state.last.send('v2');
    expect(received).toEqual(['v1', 'v2']);
    expect(state.calls).toHaveLength(1);
    const refused = recorder.eventsOf('control-message-refused')[0];
    expect(refused?.error).toBeInstanceOf(InvalidWireMessageError);
    expect(refused?.error.field).toBe('value');
    expect(recorder.errors.map((error) => error.reason)).toEqual(['invalid_message']);
  });

  it('restarts an incremental stream after a refused message, keeping the state', () => {
    const { time, state, received, watch } = setup('restart');
    watch();
    state.last.send('v1');
    state.calls[0]?.send('bad');
    expect(state.calls[0]?.cancelled).toBe(true);
    time.advance(100);
    expect(state.calls).toHaveLength(2);
    state.last.send('v1');
    expect(received).toEqual(['v1']);
  });

  it('serves the other listeners when one throws, and logs it', () => {
    const { hub, recorder, state, received } = setup();
    hub.watch('web:80', () => state, () => {
      throw new Error('listener bug');
    });
    hub.watch('web:80', () => state, (message) => received.push(message));
    state.last.send('v1');
    expect(received).toEqual(['v1']);
    expect(recorder.eventsOf('control-listener-failed')).toHaveLength(1);
  });

  it('cancels everything on close and refuses later watches', () => {
    const { hub, time, state, watch } = setup();
    watch();
    state.last.failWith(status.UNAVAILABLE);
    hub.close();
    time.advance(ttlMs * 2);
    expect(state.calls).toHaveLength(1);
    expect(hub.openStreamCount()).toBe(0);
    expect(() => watch()).toThrow(/closed/);
  });

  it('retries later when a stream cannot even be opened (a channel closed under the client)', () => {
    const { hub, time, recorder, state } = setup();
    let refusals = 1;
    const flaky: WatchedState<string, string> = {
      open: () => {
        if (refusals-- > 0) throw new Error('Channel has been shut down');
        return state.open();
      },
      receive: (message) => state.receive(message),
      snapshot: () => state.snapshot(),
      expire: () => state.expire(),
    };
    hub.watch('web:80', () => flaky, () => undefined);
    expect(recorder.errors.map((error) => error.reason)).toEqual(['open_failed']);
    time.advance(100);
    expect(state.calls).toHaveLength(1);
  });

  it('names gRPC statuses in snake case for the reason label', () => {
    expect(reasonOf(status.UNAVAILABLE)).toBe('unavailable');
    expect(reasonOf(status.DEADLINE_EXCEEDED)).toBe('deadline_exceeded');
    expect(reasonOf(undefined)).toBe('unknown');
  });
});
