import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { LoopbackPeers } from '../transport/loopback-peers.spec-helper.js';
import { headerFrame } from './mesh-tls.spec-helper.js';
import { readTransportHeader } from './read-transport-header.js';

describe('readTransportHeader', () => {
  const peers = new LoopbackPeers();
  afterEach(() => peers.closeAll());

  /** A connected pair: what the test writes to `client` is read from `server`. */
  async function pair(): Promise<{ client: Socket; server: Socket }> {
    let accepted: (socket: Socket) => void = () => undefined;
    const server = new Promise<Socket>((resolve) => (accepted = resolve));
    const address = await peers.server((socket) => accepted(socket));
    const client = await peers.connect(address);
    return { client, server: await server };
  }

  it('reads a header sent in pieces and leaves the session bytes after it unread', async () => {
    const { client, server } = await pair();
    const frame = headerFrame(8080, 'http1');
    const reading = readTransportHeader(server, 1_000);
    client.write(frame.subarray(0, 5));
    await sleep(10);
    client.write(Buffer.concat([frame.subarray(5), Buffer.from('GET / HTTP/1.1\r\n')]));

    const result = await reading;
    expect(result.ok && result.value).toEqual({ port: 8080, name: '', sessionProtocol: 1 });
    const rest = await new Promise<Buffer>((resolve) => server.once('data', resolve));
    expect(rest.toString()).toBe('GET / HTTP/1.1\r\n');
  });

  it('refuses bytes that are not a header at once, naming the problem', async () => {
    const { client, server } = await pair();
    const reading = readTransportHeader(server, 1_000);
    client.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

    const result = await reading;
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.problem).toBe('bad-preamble');
      expect(result.error.input).toContain('PRI * HTTP/2.0');
    }
  });

  it('gives up on a header that does not complete within the time allowed', async () => {
    const { client, server } = await pair();
    const reading = readTransportHeader(server, 100);
    client.write(headerFrame(8080).subarray(0, 10));

    const result = await reading;
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.problem).toBe('truncated');
      expect(result.error.message).toMatch(/within 100ms/);
    }
  });

  it('gives up on a peer that ends its side in the middle of the header', async () => {
    const { client, server } = await pair();
    const reading = readTransportHeader(server, 1_000);
    client.end(headerFrame(8080).subarray(0, 24));

    const result = await reading;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/ended its side, after 24 bytes/);
  });
});
