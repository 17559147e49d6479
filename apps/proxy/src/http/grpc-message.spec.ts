import { describe, expect, it } from 'vitest';
import { encodeGrpcMessage } from './grpc-message.js';

describe('encodeGrpcMessage', () => {
  it('keeps printable ASCII as it is, so clients show ":" and "/" and spaces', () => {
    expect(encodeGrpcMessage('unauthorized: no route for GET /a/b')).toBe('unauthorized: no route for GET /a/b');
  });

  it('encodes "%", control characters and UTF-8 bytes as %XX', () => {
    expect(encodeGrpcMessage('100% done\r\n')).toBe('100%25 done%0D%0A');
    expect(encodeGrpcMessage('café')).toBe('caf%C3%A9');
  });

  it('decodes back to the text with the percent-decoding gRPC clients use', () => {
    for (const text of ['plain', 'a:b/c?d#e', '50% ✓ naïve', 'tab\there']) {
      expect(decodeURIComponent(encodeGrpcMessage(text))).toBe(text);
    }
  });
});
