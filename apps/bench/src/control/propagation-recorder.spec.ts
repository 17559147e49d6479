import type { Endpoint, EndpointUpdate } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { PropagationRecorder } from './propagation-recorder.js';
import { markerPort, STEADY_PORT } from './propagation-mesh-file.js';

const endpoint = (port: number): Endpoint => ({ address: { ip: '127.0.0.1', port }, weight: 1, labels: {} });
const reset = (...ports: number[]): EndpointUpdate => ({ kind: 'reset', endpoints: ports.map(endpoint) });
const add = (...ports: number[]): EndpointUpdate => ({ kind: 'add', endpoints: ports.map(endpoint) });
const remove = (...ports: number[]): EndpointUpdate => ({ kind: 'remove', addresses: ports.map((port) => ({ ip: '127.0.0.1', port })) });

describe('PropagationRecorder', () => {
  it('times each subscriber from the write to the add that carries the change, ignoring the remove before it', () => {
    const recorder = new PropagationRecorder(2, 1);
    recorder.received(0, reset(STEADY_PORT, markerPort(0)), 5);
    recorder.received(1, reset(STEADY_PORT, markerPort(0)), 6);
    expect(recorder.withFirstMessage).toBe(2);
    expect(recorder.holding(0)).toBe(2);
    recorder.written(1, 100);
    recorder.received(0, remove(markerPort(0)), 180);
    recorder.received(0, add(markerPort(1)), 181);
    expect(recorder.holding(1)).toBe(1);
    recorder.received(1, add(markerPort(1)), 230);
    recorder.received(1, reset(STEADY_PORT, markerPort(1)), 900); // a reconnect does not move the first arrival
    expect(recorder.delaysMs(1)).toEqual([81, 130]);
  });

  it('leaves a subscriber that never got the change as null', () => {
    const recorder = new PropagationRecorder(2, 2);
    recorder.written(1, 10);
    recorder.received(0, add(markerPort(1)), 20);
    expect(recorder.delaysMs(1)).toEqual([10, null]);
    expect(recorder.delaysMs(2)).toEqual([null, null]);
  });

  it('names a subscriber whose first message is not a reset', () => {
    const recorder = new PropagationRecorder(2, 1);
    recorder.received(0, { kind: 'doesNotExist' }, 1);
    recorder.received(1, reset(STEADY_PORT, markerPort(0)), 1);
    expect(recorder.firstMessageProblems).toEqual(['subscriber 0 got doesNotExist first']);
    expect(recorder.holding(0)).toBe(1);
  });
});
