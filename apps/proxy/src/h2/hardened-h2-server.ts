// createHardenedH2Server: an h2c server, fed injected sockets, with the limits that blunt known HTTP/2 floods.
import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';

export interface H2ServerLimits {
  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); about 200 is also the fastest. */
  readonly maxConcurrentStreams: number;
  /** Largest decoded header list (SETTINGS_MAX_HEADER_LIST_SIZE); also ends a CONTINUATION flood. */
  readonly maxHeaderListSize: number;
  /** Most header fields in one block: caps the count, not only the bytes ("HTTP/2 Bomb"). */
  readonly maxHeaderListPairs: number;
  /** The flow-control window of each request stream: what a client may send before the proxy reads. */
  readonly streamWindowBytes: number;
  /** The connection-level receive window. */
  readonly sessionWindowBytes: number;
  /** nghttp2's credit limit per session, in MB; new streams are refused while it is exceeded. */
  readonly maxSessionMemoryMb: number;
  /** Unacknowledged PINGs the proxy itself may have outstanding. */
  readonly maxOutstandingPings: number;
  /** Entries allowed in one SETTINGS frame. */
  readonly maxSettings: number;
  /** Invalid frames (including streams over the concurrency limit) before the session is closed. */
  readonly maxSessionInvalidFrames: number;
  /** Streams the proxy may refuse before it closes the session. */
  readonly maxSessionRejectedStreams: number;
  /** RST_STREAM frames a client may send at once, refilled at `streamResetRate` per second (Rapid Reset). */
  readonly streamResetBurst: number;
  readonly streamResetRate: number;
  /** A session with no open stream and no traffic for this long is sent GOAWAY. */
  readonly sessionIdleMs: number;
}

export const DEFAULT_H2_SERVER_LIMITS: H2ServerLimits = {
  maxConcurrentStreams: 200,
  maxHeaderListSize: 16 * 1024,
  maxHeaderListPairs: 100,
  streamWindowBytes: 256 * 1024,
  sessionWindowBytes: 1024 * 1024,
  maxSessionMemoryMb: 10,
  maxOutstandingPings: 10,
  maxSettings: 32,
  maxSessionInvalidFrames: 100,
  maxSessionRejectedStreams: 100,
  // Node's burst; a refill above its 33/s, so a busy client whose calls hit their deadlines is not taken for an attacker.
  streamResetBurst: 1_000,
  streamResetRate: 100,
  sessionIdleMs: 300_000,
};

/** The HTTP/2 default stream window, which the connection window starts at too. */
const DEFAULT_WINDOW = 65_535;

/**
 * An HTTP/2 server that never listens: sessions start from sockets handed to `server.emit('connection', socket)`.
 * A session that errs (a flood, a protocol error, a reset socket) is destroyed, and only that session.
 */
export function createHardenedH2Server(limits: H2ServerLimits = DEFAULT_H2_SERVER_LIMITS): Http2Server {
  const server = createServer({
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderListSize,
      enablePush: false,
      initialWindowSize: limits.streamWindowBytes,
    },
    maxHeaderListPairs: limits.maxHeaderListPairs,
    maxSessionMemory: limits.maxSessionMemoryMb,
    maxOutstandingPings: limits.maxOutstandingPings,
    maxSettings: limits.maxSettings,
    maxSessionInvalidFrames: limits.maxSessionInvalidFrames,
    maxSessionRejectedStreams: limits.maxSessionRejectedStreams,
    streamResetBurst: limits.streamResetBurst,
    streamResetRate: limits.streamResetRate,
    // Only TLS servers meet unknown protocols; kept short should this server ever be given TLS sockets.
    unknownProtocolTimeout: 5_000,
  });
  server.on('sessionError', (_error: Error, session: ServerHttp2Session) => session.destroy());
  server.on('session', (session: ServerHttp2Session) => hardenSession(session, limits));
  return server;
}

function hardenSession(session: ServerHttp2Session, limits: H2ServerLimits): void {
  session.on('error', () => session.destroy());
  if (limits.sessionWindowBytes > DEFAULT_WINDOW) session.setLocalWindowSize(limits.sessionWindowBytes);
  let open = 0;
  session.on('stream', (stream: ServerHttp2Stream) => {
    open += 1;
    stream.once('close', () => (open -= 1));
  });
  session.setTimeout(limits.sessionIdleMs, () => {
    // Quiet streams (a watch with nothing to say) keep their session; an empty one is asked to go.
    if (open === 0) session.close();
  });
}
