// resetH2Stream: ends an HTTP/2 stream with RST_STREAM and the given code, and with nothing that looks like success.
import { constants, type Http2Stream } from 'node:http2';

/** The part of a Node stream that `close` runs to send END_STREAM; replaced to keep it from doing so. */
interface FinalStep {
  _final(callback: (error?: Error | null) => void): void;
}

/**
 * Sends RST_STREAM with `code`. Node's `close(code)` first ends the writable side, which puts an END_STREAM on the
 * wire ahead of the reset: a cut response (or request body) would reach the peer as complete. Skipping the
 * writable's final step makes the reset the only signal the peer gets.
 */
export function resetH2Stream(stream: Http2Stream, code: number): void {
  if (stream.closed || stream.destroyed) return;
  if (!stream.writableEnded) (stream as unknown as FinalStep)._final = (callback) => callback();
  stream.close(code);
}

/** The code to pass on for a reset that came with none (the peer's connection died): INTERNAL_ERROR. */
export function resetCodeOf(code: number | undefined): number {
  return code === undefined || code === constants.NGHTTP2_NO_ERROR ? constants.NGHTTP2_INTERNAL_ERROR : code;
}
