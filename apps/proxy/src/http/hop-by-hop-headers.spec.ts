import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardRequestHeaders, forwardResponseHeaders, hasToken, rawHeaderValue } from './hop-by-hop-headers.js';

const names = (flat: readonly string[]) => flat.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());

describe('forwardRequestHeaders', () => {
  it('drops Connection, the headers it names, and the fixed hop-by-hop set, keeping order and case of the rest', () => {
    const raw = [
      'Host', 'books:7000',
      'Connection', 'keep-alive, X-Secret',
      'X-Secret', 'drop me',
      'Keep-Alive', 'timeout=5',
      'Proxy-Connection', 'keep-alive',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'websocket',
      'Expect', '100-continue',
      'X-Request-Id', 'abc',
      'Content-Length', '5',
    ];
    expect(forwardRequestHeaders(raw)).toEqual(['Host', 'books:7000', 'X-Request-Id', 'abc', 'Content-Length', '5']);
  });

  it('keeps only the trailers token of TE', () => {
    expect(forwardRequestHeaders(['TE', 'gzip, Trailers', 'Host', 'a'])).toEqual(['Host', 'a', 'te', 'trailers']);
    expect(forwardRequestHeaders(['TE', 'gzip', 'Host', 'a'])).toEqual(['Host', 'a']);
  });

  it('keeps Upgrade and asks for an upgrade when tunnelling', () => {
    const raw = ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
    expect(forwardRequestHeaders(raw, { tunnel: true })).toEqual(['Host', 'a', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'connection', 'upgrade']);
  });

  it('strips a client-supplied weft-client-id only when asked (inbound)', () => {
    const raw = ['Host', 'a', 'Weft-Client-Id', 'forged.identity'];
    expect(forwardRequestHeaders(raw, { stripClientId: true })).toEqual(['Host', 'a']);
    expect(forwardRequestHeaders(raw)).toEqual(raw);
  });

  it('never forwards a hop-by-hop header or one that Connection names (property)', () => {
    // Generated names never spell Connection: the one Connection header below lists what must go.
    const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).filter((name) => name !== 'connection');
    fc.assert(
      fc.property(fc.array(fc.tuple(token, fc.stringMatching(/^[a-z0-9 ]{0,6}$/)), { maxLength: 12 }), fc.array(token, { maxLength: 3 }), (pairs, listed) => {
        const raw = [...pairs.flat(), 'Connection', listed.join(', ')];
        const forwarded = names(forwardRequestHeaders(raw));
        for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', ...listed]) {
          expect(forwarded).not.toContain(name);
        }
        // Everything else survives, in order.
        const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', 'te', ...listed]);
        expect(forwarded).toEqual(pairs.map(([name]) => name).filter((name) => !hop.has(name)));
      }),
    );
  });
});

describe('forwardResponseHeaders', () => {
  it('drops hop-by-hop fields and those Connection names, keeping repeated end-to-end ones in order', () => {
    const raw = ['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked', 'Connection', 'close, X-Hop', 'X-Hop', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
    expect(forwardResponseHeaders(raw)).toEqual(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});

describe('header helpers', () => {
  it('finds the first value of a header without regard to case', () => {
    expect(rawHeaderValue(['A', '1', 'content-length', '7', 'Content-Length', '8'], 'content-length')).toBe('7');
    expect(rawHeaderValue(['A', '1'], 'b')).toBeUndefined();
  });

  it('finds a token in a comma-separated value', () => {
    expect(hasToken('gzip, Chunked', 'chunked')).toBe(true);
    expect(hasToken('xchunked', 'chunked')).toBe(false);
  });
});
