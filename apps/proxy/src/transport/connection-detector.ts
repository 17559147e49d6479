// ConnectionDetector: reads a new connection's first bytes, decides its protocol and hands it, bytes intact, to a handler.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { detect, type Detection, DETECT_TLS_MAX_BYTES, formatDuration, type Milliseconds } from '@weft/core';
import type { AcceptedConnection } from './tcp-listener.js';
import { resetSocket } from './reset-socket.js';
import { silentTransportLog, type TransportLog } from './transport-log.js';

export type TransportProtocol = 'http1' | 'h2' | 'tls' | 'opaque';

/** What detection found: the protocol, and for TLS the SNI and ALPN of the ClientHello, for HTTP/1 the method. */
export type DecidedDetection = Exclude<Detection, { readonly protocol: 'need-more' }>;

/**
 * Why the protocol is what it is: `detected` from the bytes; `unrecognised` bytes are opaque; `opaque-port` skipped
 * detection; `timeout` means the client sent too little before the detection timeout; `client-ended` means it
 * half-closed before detection could decide. The last four all continue as opaque TCP.
 */
export type DetectionReason = 'detected' | 'unrecognised' | 'opaque-port' | 'timeout' | 'client-ended';

export interface DetectedConnection {
  readonly connection: AcceptedConnection;
  /** The client's socket, reading again from its very first byte: what detection read has been put back. */
  readonly socket: Socket;
  readonly protocol: TransportProtocol;
  readonly detection: DecidedDetection;
  readonly reason: DetectionReason;
  /** A copy of the bytes detection read (the socket delivers them again); for logs and tests. */
  readonly firstBytes: Uint8Array;
  /** Time from accept to decision. */
  readonly elapsedMs: Milliseconds;
  /** The destination port the opaque-port list was checked against. */
  readonly targetPort: number;
}

/** One handler per protocol; each takes over the socket and must end it eventually. */
export type ProtocolHandlers = { readonly [P in TransportProtocol]: (connection: DetectedConnection) => void };

export interface ConnectionDetectorOptions {
  readonly handlers: ProtocolHandlers;
  /** Connections to these destination ports skip detection (server-speaks-first protocols such as MySQL, SMTP). */
  readonly opaquePorts: { has(port: number): boolean };
  /** After this long without a decision the connection continues as opaque TCP. */
  readonly timeoutMs: Milliseconds;
  readonly log?: TransportLog;
}

const OPAQUE: DecidedDetection = { protocol: 'opaque' };
const NO_BYTES = new Uint8Array(0);

export class ConnectionDetector {
  private readonly log: TransportLog;

  constructor(private readonly options: ConnectionDetectorOptions) {
    this.log = options.log ?? silentTransportLog;
  }

  /** Decides the protocol of `connection`, whose destination port is `targetPort`, then calls exactly one handler. */
  accept(connection: AcceptedConnection, targetPort: number): void {
    const started = performance.now();
    const hand = (detection: DecidedDetection, reason: DetectionReason, firstBytes: Uint8Array) =>
      this.dispatch({
        connection,
        socket: connection.socket,
        protocol: detection.protocol,
        detection,
        reason,
        firstBytes,
        elapsedMs: performance.now() - started,
        targetPort,
      });
    if (this.options.opaquePorts.has(targetPort)) hand(OPAQUE, 'opaque-port', NO_BYTES);
    else this.peek(connection.socket, targetPort, hand);
  }

  /**
   * Reads in paused mode ('readable' + read()), so that once the listener is removed the socket is back in its
   * initial state: the next consumer (pipe, http.Server, TLSSocket) starts it and reads the put-back bytes first.
   */
  private peek(
    socket: Socket,
    targetPort: number,
    hand: (detection: DecidedDetection, reason: DetectionReason, firstBytes: Uint8Array) => void,
  ): void {
    let bytes: Buffer = Buffer.alloc(0);
    const decide = (detection: DecidedDetection, reason: DetectionReason) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      // Put back before 'end' can be emitted: unshift is refused after it.
      if (bytes.length > 0) socket.unshift(bytes);
      hand(detection, reason, new Uint8Array(bytes));
    };
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
        const detection = detect(bytes.subarray(0, DETECT_TLS_MAX_BYTES));
        if (detection.protocol !== 'need-more') {
          return decide(detection, detection.protocol === 'opaque' ? 'unrecognised' : 'detected');
        }
        if (bytes.length >= DETECT_TLS_MAX_BYTES) return decide(OPAQUE, 'unrecognised'); // detect() promises this cannot happen
      }
      if (receivedEnd(socket)) decide(OPAQUE, 'client-ended');
    };
    const onClose = () => {
      // The client went away (reset, or destroyed) before a decision; there is nothing left to hand over.
      clearTimeout(timer);
      socket.off('readable', onReadable);
    };
    const onTimeout = () => {
      this.log({
        event: 'protocol_detect_timeout',
        message: `protocol detection timed out after ${formatDuration(this.options.timeoutMs)}; continuing as opaque TCP`,
        targetPort,
        bytesRead: bytes.length,
      });
      decide(OPAQUE, 'timeout');
    };
    const timer = setTimeout(onTimeout, this.options.timeoutMs);
    socket.on('readable', onReadable);
    socket.once('close', onClose);
  }

  private dispatch(detected: DetectedConnection): void {
    try {
      this.options.handlers[detected.protocol](detected);
    } catch (error) {
      this.log({
        event: 'protocol_handler_failed',
        message: `the ${detected.protocol} handler failed: ${error instanceof Error ? error.message : String(error)}`,
        protocol: detected.protocol,
      });
      detected.connection.markFailed();
      resetSocket(detected.socket);
    }
  }
}

/**
 * Whether the client's FIN has arrived, even if 'end' has not been emitted yet. Streams offer no public flag for
 * this moment (readableEnded turns true only after 'end', when unshift is no longer allowed), so this reads the
 * stream state that Node has kept under this name since streams2.
 */
function receivedEnd(socket: Socket): boolean {
  const state = (socket as unknown as { readonly _readableState?: { readonly ended?: boolean } })._readableState;
  return state?.ended === true;
}
