// readTransportHeader: reads the transport header frame that opens a decrypted mesh connection; the session's bytes stay unread.
import type { Socket } from 'node:net';
import { decodeTransportHeader, type transport, TransportHeaderError } from '@weft/contracts';
import { err, formatDuration, ok, type Result } from '@weft/core';

/**
 * The header, once its whole frame has arrived; bytes after the frame are put back on the socket for the session.
 * Any frame the contract refuses (bad preamble, length over 64 KiB, undecodable, bad port or protocol), a peer
 * that ends or closes mid-frame, or no whole frame within `timeoutMs` gives a TransportHeaderError: the caller
 * then closes the connection without forwarding anything.
 */
export function readTransportHeader(socket: Socket, timeoutMs: number): Promise<Result<transport.TransportHeader, TransportHeaderError>> {
  return new Promise((resolve) => {
    let bytes: Buffer = Buffer.alloc(0);
    let lastError: TransportHeaderError | undefined;
    const settle = (result: Result<transport.TransportHeader, TransportHeaderError>) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      resolve(result);
    };
    const incomplete = (why: string) =>
      settle(err(new TransportHeaderError('truncated', lastError?.input ?? '', `${why}, after ${bytes.length} bytes of the header frame`)));
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
        const decoded = decodeTransportHeader(bytes);
        if (decoded.ok) {
          // Put back before 'end' can be emitted: unshift is refused after it.
          if (bytes.length > decoded.value.frameLength) socket.unshift(bytes.subarray(decoded.value.frameLength));
          return settle(ok(decoded.value.header));
        }
        if (decoded.error.problem !== 'truncated') return settle(err(decoded.error));
        lastError = decoded.error;
      }
      if (socket.readableEnded || receivedEnd(socket)) incomplete('the peer ended its side');
    };
    const onClose = () => incomplete('the connection closed');
    const timer = setTimeout(() => incomplete(`no whole header arrived within ${formatDuration(timeoutMs)}`), timeoutMs);
    socket.on('readable', onReadable);
    socket.once('close', onClose);
    onReadable();
  });
}

/** Whether the peer's end of data has arrived (see ConnectionDetector: there is no public flag before 'end'). */
function receivedEnd(socket: Socket): boolean {
  const state = (socket as unknown as { readonly _readableState?: { readonly ended?: boolean } })._readableState;
  return state?.ended === true;
}
