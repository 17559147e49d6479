import { type ControlClientEvent, type ControlWatchRef, InvalidWireMessageError } from '@weft/adapter-grpc';
import { describe, expect, it } from 'vitest';
import type { TransportEvent } from '../transport/transport-log.js';
import { controlClientLog } from './control-client-log.js';

const watch: ControlWatchRef = { service: 'destination', rpc: 'Get', addr: '127.0.0.1:8086', target: 'books.shop.svc.cluster.local:7000' };

function failed(attempts: number): ControlClientEvent {
  return { event: 'control-stream-failed', watch, reason: 'unavailable', details: 'No connection established', attempts, retryInMs: 812.4, stale: true };
}

function logged(events: readonly ControlClientEvent[]): TransportEvent[] {
  const lines: TransportEvent[] = [];
  const log = controlClientLog((line) => lines.push(line));
  for (const event of events) log(event);
  return lines;
}

describe('controlClientLog', () => {
  it('logs a failing stream on its first failure and every tenth, so an outage stays a few lines', () => {
    const lines = logged(Array.from({ length: 25 }, (_, index) => failed(index + 1)));
    expect(lines.map((line) => line['attempts'])).toEqual([1, 10, 20]);
    expect(lines[0]).toEqual({
      event: 'control-stream-failed',
      message:
        'control plane stream destination Get books.shop.svc.cluster.local:7000 failed (unavailable: No connection established); keeping the last known state, retrying in 812ms (attempt 1)',
      service: 'destination',
      rpc: 'Get',
      target: 'books.shop.svc.cluster.local:7000',
      reason: 'unavailable',
      attempts: 1,
      retryInMs: 812,
      stale: true,
    });
  });

  it('writes every other event as one flat line that says what happened', () => {
    const refused = new InvalidWireMessageError('add.addrs[0].addr.ip', 'x', 'is not an IPv4 or IPv6 address');
    const lines = logged([
      { event: 'control-stream-restored', watch, attempts: 7, staleForMs: 61_000 },
      { event: 'control-message-refused', watch, error: refused },
      { event: 'control-state-expired', watch, ttlMs: 600_000, listeners: 2, replacement: 'doesNotExist' },
      { event: 'control-listener-failed', watch, error: new Error('boom') },
    ]);
    expect(lines.map((line) => [line.event, line.message])).toEqual([
      ['control-stream-restored', 'control plane stream destination Get books.shop.svc.cluster.local:7000 restored after 7 failed attempts, 1m1s without updates'],
      ['control-message-refused', 'refused a message on destination Get books.shop.svc.cluster.local:7000: "x": add.addrs[0].addr.ip is not an IPv4 or IPv6 address'],
      [
        'control-state-expired',
        'the last known state of destination Get books.shop.svc.cluster.local:7000 outlived its time to live (10m) with the control plane away; replaced by doesNotExist',
      ],
      ['control-listener-failed', 'a listener of destination Get books.shop.svc.cluster.local:7000 failed: boom'],
    ]);
    expect(lines[1]?.['field']).toBe('add.addrs[0].addr.ip');
    for (const line of lines) expect(line).toMatchObject({ service: 'destination', rpc: 'Get', target: watch.target });
  });

  it('names a policy watch by workload and port', () => {
    const target = JSON.stringify(['shop', 'web-1', 8080]);
    const policyWatch: ControlWatchRef = { service: 'policy', rpc: 'WatchPort', addr: '127.0.0.1:8086', target };
    const [line] = logged([{ event: 'control-stream-restored', watch: policyWatch, attempts: 1, staleForMs: 0 }]);
    expect(line).toMatchObject({
      target: 'shop/web-1:8080',
      message: 'control plane stream policy WatchPort shop/web-1:8080 restored after 1 failed attempts, 0s without updates',
    });
  });
});
