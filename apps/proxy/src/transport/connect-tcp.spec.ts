import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, connectTcp } from './connect-tcp.js';
import { LoopbackPeers, transcriptOf } from './loopback-peers.spec-helper.js';

describe('connectTcp', () => {
  const peers = new LoopbackPeers();
  afterEach(() => peers.closeAll());

  it('connects a half-open-capable socket', async () => {
    const address = await peers.server((socket) => socket.end('hello'));
    const socket = peers.track(await connectTcp(address, { timeoutMs: 1_000 }));
    expect(socket.allowHalfOpen).toBe(true);
    const transcript = await transcriptOf(socket.end());
    expect(transcript.bytes.toString()).toBe('hello');
  });

  it('reports a refused connection with its system error and the address', async () => {
    const address = await peers.refusingAddress();
    const error = await connectTcp(address, { timeoutMs: 1_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', address });
    expect((error as Error).message).toContain(`127.0.0.1:${address.port}`);
  });

  it('gives up on an endpoint that does not answer after the timeout', async () => {
    const address = await peers.blackholeAddress();
    const started = performance.now();
    const error = await connectTcp(address, { timeoutMs: 300 }).catch((caught: unknown) => caught);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
    expect((error as Error).message).toMatch(/no connection within 300ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('stops when its signal aborts', async () => {
    const address = await peers.blackholeAddress();
    const abort = new AbortController();
    const attempt = connectTcp(address, { timeoutMs: 5_000, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await expect(attempt).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
