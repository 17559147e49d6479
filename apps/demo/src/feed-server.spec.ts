import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { readFeedMessages } from './feed-client.js';
import { type FeedMessage, type FeedServer, startFeedServer } from './feed-server.js';
import { formatHostPort } from './host-port.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function feed(intervalMs = 100): Promise<FeedServer> {
  const server = await startFeedServer({ host: '127.0.0.1', port: 0, intervalMs });
  cleanups.push(() => server.close());
  return server;
}

async function connect(server: FeedServer): Promise<{ socket: WebSocket; messages: FeedMessage[] }> {
  const socket = new WebSocket(`ws://${formatHostPort(server.address)}/`);
  const messages: FeedMessage[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as FeedMessage));
  cleanups.push(() => socket.terminate());
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, messages };
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the demo feed (WebSocket)', () => {
  it('pushes numbered ticks to each client, every 100 ms by default', async () => {
    const server = await feed();
    const [first, second] = [await connect(server), await connect(server)];
    await until(() => first.messages.length >= 3 && second.messages.length >= 3);
    expect(first.messages.slice(0, 3).map((message) => message.type === 'tick' && message.seq)).toEqual([1, 2, 3]);
    expect(second.messages[0]).toMatchObject({ type: 'tick', seq: 1, itemId: expect.any(String), name: expect.any(String) });
    expect(server.clientCount()).toBe(2);
  });

  it('echoes what a client sends', async () => {
    const server = await feed(60_000);
    const client = await connect(server);
    client.socket.send('hello, feed');
    await until(() => client.messages.length > 0);
    expect(client.messages).toEqual([{ type: 'echo', data: 'hello, feed' }]);
  });

  it('answers plain HTTP with a health check, and a hint elsewhere', async () => {
    const server = await feed();
    const base = `http://${formatHostPort(server.address)}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/`)).status).toBe(426);
  });

  it('is read by the web front end\'s client: the first N messages, then the socket closes', async () => {
    const server = await feed(20);
    const messages = await readFeedMessages(server.address, 4, 3000);
    expect(messages.map((message) => message.type === 'tick' && message.seq)).toEqual([1, 2, 3, 4]);
    await until(() => server.clientCount() === 0);
  });

  it('says goodbye (1001) to its clients when it stops', async () => {
    const server = await feed();
    const client = await connect(server);
    const closed = new Promise<number>((resolve) => client.socket.once('close', resolve));
    await server.close();
    expect(await closed).toBe(1001);
  });
});
