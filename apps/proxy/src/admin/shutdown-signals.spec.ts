import { FixedClock } from '@weft/adapter-memory';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { GracefulShutdown, type ShutdownReason } from './graceful-shutdown.js';
import { Readiness } from './readiness.js';
import { handleShutdownSignals, type ShutdownSignalEvent } from './shutdown-signals.js';

function setUp() {
  const source = new EventEmitter();
  const readiness = new Readiness();
  const shutdown = new GracefulShutdown({ gracePeriodMs: 120_000, readiness, clock: new FixedClock() });
  const begun: ShutdownReason[] = [];
  const exits: number[] = [];
  const events: ShutdownSignalEvent[] = [];
  let drains = 0;
  shutdown.register({ name: 'listeners', drain: () => new Promise(() => (drains += 1)), forceClose: () => undefined });
  const subscription = handleShutdownSignals({
    source,
    shutdown: { begin: (reason) => (begun.push(reason), shutdown.begin(reason)) },
    exit: (code) => exits.push(code),
    log: (event) => events.push(event),
  });
  return { source, readiness, shutdown, begun, exits, events, drains: () => drains, subscription };
}

describe('handleShutdownSignals', () => {
  it('starts the graceful shutdown on the first SIGTERM', () => {
    const { source, readiness, shutdown, begun, exits } = setUp();
    source.emit('SIGTERM');
    expect(begun).toEqual(['SIGTERM']);
    expect(shutdown.state).toBe('draining');
    expect(readiness.isReady()).toBe(false);
    expect(exits).toEqual([]);
  });

  it('ignores the second signal and exits at once on the third, with 128 + its number', () => {
    const { source, begun, exits, events, drains } = setUp();
    source.emit('SIGINT');
    source.emit('SIGTERM');
    expect(begun).toEqual(['SIGINT']);
    expect(drains()).toBe(1);
    expect(exits).toEqual([]);
    source.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(events.map((event) => event.event)).toEqual(['shutdown-signal', 'shutdown-signal-ignored', 'shutdown-forced-exit']);
  });

  it('exits with 143 when the third signal is SIGTERM', () => {
    const { source, exits } = setUp();
    for (let i = 0; i < 3; i++) source.emit('SIGTERM');
    expect(exits).toEqual([143]);
  });

  it('joins a shutdown that POST /shutdown already started', async () => {
    const { source, shutdown, drains } = setUp();
    const started = shutdown.begin('admin');
    source.emit('SIGTERM');
    expect(drains()).toBe(1);
    expect(shutdown.begin('SIGTERM')).toBe(started);
  });

  it('stops listening once closed', () => {
    const { source, begun, subscription } = setUp();
    subscription.close();
    expect(source.listenerCount('SIGTERM') + source.listenerCount('SIGINT')).toBe(0);
    source.emit('SIGTERM');
    expect(begun).toEqual([]);
  });
});
