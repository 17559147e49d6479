import { describe, expect, it } from 'vitest';
import { forwardH2RequestHeaders, forwardH2ResponseHeaders, headerObjectOf } from './h2-headers.js';

const request = [':method', 'POST', ':scheme', 'http', ':path', '/p', ':authority', 'books:7000'];

describe('forwardH2RequestHeaders', () => {
  it('keeps pseudo-headers first and end-to-end fields, repeats included, in order', () => {
    const out = forwardH2RequestHeaders([...request, 'x-a', '1', 'x-a', '2', 'content-type', 'application/grpc']);
    expect(out).toEqual([...request, 'x-a', '1', 'x-a', '2', 'content-type', 'application/grpc']);
  });

  it('drops connection-specific fields and every field a Connection header names (RFC 9113 §8.2.2)', () => {
    const out = forwardH2RequestHeaders([
      ...request,
      'connection', 'keep-alive, x-hop',
      'x-hop', 'secret',
      'keep-alive', 'timeout=5',
      'proxy-connection', 'keep-alive',
      'transfer-encoding', 'chunked',
      'upgrade', 'websocket',
      'x-kept', 'yes',
    ]);
    expect(out).toEqual([...request, 'x-kept', 'yes']);
  });

  it('keeps TE only as "trailers", which gRPC needs', () => {
    expect(forwardH2RequestHeaders([...request, 'te', 'trailers'])).toEqual([...request, 'te', 'trailers']);
    expect(forwardH2RequestHeaders([...request, 'te', 'gzip, trailers'])).toEqual([...request, 'te', 'trailers']);
    expect(forwardH2RequestHeaders([...request, 'te', 'gzip'])).toEqual(request);
  });

  it('turns a lone Host into :authority so the upstream client never makes one up', () => {
    const out = forwardH2RequestHeaders([':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'books:7000']);
    expect(out).toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'books:7000', 'host', 'books:7000']);
  });

  it('drops a client-supplied weft-client-id only when asked (inbound)', () => {
    const raw = [...request, 'weft-client-id', 'forged'];
    expect(forwardH2RequestHeaders(raw, { stripClientId: true })).toEqual(request);
    expect(forwardH2RequestHeaders(raw)).toEqual(raw);
  });
});

describe('forwardH2ResponseHeaders', () => {
  it('keeps :status, grpc fields and repeats, and drops connection-specific fields', () => {
    const raw = [':status', '200', 'grpc-status', '0', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'connection', 'close', 'keep-alive', 'x'];
    expect(forwardH2ResponseHeaders(raw)).toEqual([':status', '200', 'grpc-status', '0', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
  });
});

describe('headerObjectOf', () => {
  it('groups a repeated name into an array of its values', () => {
    expect(headerObjectOf(['grpc-status', '0', 'x-m', 'a', 'x-m', 'b', 'x-m', 'c'])).toEqual({ 'grpc-status': '0', 'x-m': ['a', 'b', 'c'] });
    expect(headerObjectOf([])).toEqual({});
  });
});
