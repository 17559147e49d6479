import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { H2RequestBody } from './h2-request-body.js';

/** A sink that records what it got and whether it was ended. */
function recordingSink(highWaterMark = 1024 * 1024): { sink: Writable; chunks: Buffer[]; ended: () => boolean; release: () => void } {
  const chunks: Buffer[] = [];
  let ended = false;
  let held: (() => void) | undefined;
  let holding = highWaterMark < 1024;
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      if (holding) held = callback;
      else callback();
    },
    final(callback) {
      ended = true;
      callback();
    },
  });
  return {
    sink,
    chunks,
    ended: () => ended,
    release: () => {
      holding = false;
      held?.();
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('H2RequestBody', () => {
  it('reads nothing until an attempt is attached', async () => {
    const source = new PassThrough();
    const body = new H2RequestBody(source, 64, true);
    source.write(Buffer.from('early'));
    await turn();
    const { sink, chunks } = recordingSink();
    expect(chunks).toHaveLength(0);
    body.attach(sink);
    await turn();
    expect(Buffer.concat(chunks).toString()).toBe('early');
  });

  it('replays what it kept to the next attempt, then streams the rest and the end', async () => {
    const source = new PassThrough();
    const body = new H2RequestBody(source, 64, true);
    const first = recordingSink();
    body.attach(first.sink);
    source.write(Buffer.from('abc'));
    await turn();
    const second = recordingSink();
    body.attach(second.sink);
    source.end(Buffer.from('def'));
    await turn();
    expect(Buffer.concat(first.chunks).toString()).toBe('abc');
    expect(first.ended()).toBe(false);
    expect(Buffer.concat(second.chunks).toString()).toBe('abcdef');
    expect(second.ended()).toBe(true);
    expect(body.ended).toBe(true);
    expect(body.replayable).toBe(true);
  });

  it('keeps nothing past the limit, nor after release: no replay is possible', async () => {
    const source = new PassThrough();
    const body = new H2RequestBody(source, 4, true);
    body.attach(recordingSink().sink);
    source.write(Buffer.from('12345'));
    await turn();
    expect(body.replayable).toBe(false);
    const other = new H2RequestBody(new PassThrough(), 64, true);
    other.release();
    expect(other.replayable).toBe(false);
    expect(new H2RequestBody(new PassThrough(), 64, false).replayable).toBe(false);
  });

  it('pauses the client while the attempt cannot take more (backpressure)', async () => {
    const source = new PassThrough();
    const body = new H2RequestBody(source, 0, false);
    const slow = recordingSink(16);
    body.attach(slow.sink);
    source.write(Buffer.alloc(64));
    await turn();
    expect(source.isPaused()).toBe(true);
    slow.release();
    await turn();
    expect(source.isPaused()).toBe(false);
  });

  it('never ends the attempt for a body the client reset', async () => {
    const source = Object.assign(new PassThrough(), { rstCode: 8 });
    const body = new H2RequestBody(source, 64, true);
    const sink = recordingSink();
    body.attach(sink.sink);
    source.end(Buffer.from('cut'));
    await turn();
    expect(sink.ended()).toBe(false);
    expect(body.ended).toBe(false);
  });
});
