import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from './loopback-port.js';
import { pushTcpBytes, startTcpSink } from './tcp-throughput.js';

let sink: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => sink?.close(resolve) ?? resolve(undefined));
  sink = undefined;
});

describe('TCP sink and source', () => {
  it('pushes every byte, including a last partial write, and times it', async () => {
    const port = await freeLoopbackPort();
    sink = await startTcpSink(port);
    const bytes = 3 * 1024 * 1024 + 12_345;
    const result = await pushTcpBytes(port, bytes, 10_000);
    expect(result.bytes).toBe(bytes);
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.gigabitsPerSecond).toBeCloseTo((bytes * 8) / result.seconds / 1e9, 6);
  });

  it('fails when nothing listens', async () => {
    const port = await freeLoopbackPort();
    await expect(pushTcpBytes(port, 1024, 2_000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
