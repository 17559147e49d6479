import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authority, endpointOf, httpCall, type ProxyUnderTest, sendRaw, startOutboundProxy, startUpstream, type Upstream } from './http-test-kit.spec-helper.js';

const BOOKS = 'books.shop.svc.cluster.local:7000';
const HOST = `Host: ${BOOKS}\r\n`;

/** Requests that a parser disagreeing with the upstream's could read as two; each must die at the proxy. */
const VECTORS: readonly { readonly name: string; readonly raw: string; readonly status: 400 | 431 }[] = [
  { name: 'Content-Length with Transfer-Encoding (CL.TE)', raw: `POST / HTTP/1.1\r\n${HOST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, status: 400 },
  { name: 'Transfer-Encoding with Content-Length (TE.CL)', raw: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, status: 400 },
  { name: 'two different Content-Length headers', raw: `POST / HTTP/1.1\r\n${HOST}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`, status: 400 },
  { name: 'two equal Content-Length headers', raw: `POST / HTTP/1.1\r\n${HOST}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`, status: 400 },
  { name: 'Content-Length with a sign', raw: `POST / HTTP/1.1\r\n${HOST}Content-Length: +4\r\n\r\nabcd`, status: 400 },
  { name: 'space before the colon', raw: `POST / HTTP/1.1\r\n${HOST}Content-Length : 4\r\n\r\nabcd`, status: 400 },
  { name: 'hex chunk size (0x5)', raw: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'negative chunk size', raw: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'Transfer-Encoding: xchunked', raw: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'Transfer-Encoding: chunked, gzip', raw: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'obs-fold header continuation', raw: `GET / HTTP/1.1\r\n${HOST}X-Folded: a\r\n b\r\n\r\n`, status: 400 },
  { name: 'obs-fold on Transfer-Encoding', raw: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'bare LF line endings', raw: `GET / HTTP/1.1\nHost: ${BOOKS}\n\n`, status: 400 },
  { name: 'bare LF inside the head', raw: `GET / HTTP/1.1\r\n${HOST}X-A: b\nX-B: c\r\n\r\n`, status: 400 },
  { name: 'NUL in a header value', raw: `GET / HTTP/1.1\r\n${HOST}X-A: b\u0000c\r\n\r\n`, status: 400 },
  { name: 'HTTP/1.0 with Transfer-Encoding', raw: `POST / HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'HTTP/1.1 without Host', raw: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
  { name: 'oversized head (20 KB header)', raw: `GET / HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 },
  {
    name: '150 header fields (over maxHeadersCount)',
    raw: `GET / HTTP/1.1\r\n${HOST}${Array.from({ length: 150 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`,
    status: 431,
  },
];

describe('Http1Proxy against request smuggling', () => {
  let upstream: Upstream;
  let proxy: ProxyUnderTest;

  beforeAll(async () => {
    upstream = await startUpstream();
    proxy = await startOutboundProxy();
    proxy.discovery.setEndpoints(authority(BOOKS), [endpointOf(upstream)]);
  });

  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  for (const vector of VECTORS) {
    it(`answers ${vector.status} and closes for ${vector.name}; nothing reaches the upstream`, async () => {
      const before = { ...upstream.stats, requests: upstream.requests.length };
      const answer = await sendRaw(proxy.port, vector.raw);
      expect(answer.text.slice(0, 12)).toBe(`HTTP/1.1 ${vector.status}`);
      expect(answer.text.toLowerCase()).toMatch(/\r\nconnection: close\r\n/);
      expect(answer.closedByServer).toBe(true);
      // Let anything that might have been forwarded arrive before counting.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(upstream.requests.length).toBe(before.requests);
      expect(upstream.stats.bytesReceived).toBe(before.bytesReceived);
      expect(upstream.stats.connections).toBe(before.connections);
      const normal = await httpCall(proxy.port, { path: '/after', headers: { host: BOOKS } });
      expect(normal.status).toBe(200);
    });
  }
});
