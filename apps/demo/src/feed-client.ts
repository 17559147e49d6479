// The web front end's WebSocket client for the feed: connect, take the first N messages, hang up.
import { WebSocket } from 'ws';
import type { FeedMessage } from './feed-server.js';
import { formatHostPort, type HostPort } from './host-port.js';

/** Why the feed could not be read: it could not be reached (or hung up early), or it was too slow. */
export class FeedReadError extends Error {
  constructor(
    readonly reason: 'unreachable' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'FeedReadError';
  }
}

/** Reads `count` messages from the feed at `address`, all within `timeoutMs`, then closes the socket. */
export function readFeedMessages(address: HostPort, count: number, timeoutMs: number): Promise<FeedMessage[]> {
  const url = `ws://${formatHostPort(address)}/`;
  return new Promise((resolve, reject) => {
    const messages: FeedMessage[] = [];
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'enough');
      else socket.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new FeedReadError('timeout', `the feed at ${url} sent ${messages.length} of ${count} messages in ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.on('message', (data) => {
      const message = parseFeedMessage(String(data));
      if (!message) return settle(() => reject(new FeedReadError('unreachable', `the feed at ${url} sent a message that is not JSON`)));
      messages.push(message);
      if (messages.length >= count) settle(() => resolve(messages));
    });
    socket.on('error', (error) => settle(() => reject(new FeedReadError('unreachable', `the feed at ${url} failed: ${error.message}`))));
    socket.on('close', (code) =>
      settle(() => reject(new FeedReadError('unreachable', `the feed at ${url} closed (${code}) after ${messages.length} of ${count} messages`))),
    );
  });
}

function parseFeedMessage(text: string): FeedMessage | undefined {
  try {
    return JSON.parse(text) as FeedMessage;
  } catch {
    return undefined;
  }
}
