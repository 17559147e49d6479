// HTTP/2 header forwarding: drops connection-specific fields (RFC 9113 §8.2.2) from flat raw header lists.
import type { OutgoingHttpHeaders } from 'node:http2';
import { CLIENT_ID_HEADER, connectionTokens, hasToken } from '../http/hop-by-hop-headers.js';

/** Fields that are connection-specific in HTTP/1 and malformed in HTTP/2 (TE is kept only as `trailers`). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

export interface H2RequestHeaderOptions {
  /** Inbound: drops any `weft-client-id` the client sent. */
  readonly stripClientId?: boolean;
}

/**
 * The request headers to send upstream, from the `rawHeaders` of a received stream: pseudo-headers first, as they
 * came; connection-specific fields and every field a Connection header names dropped; `te: trailers` kept (gRPC needs
 * it). A request with only a `host` header gets it as its `:authority`, so the upstream client never invents one.
 */
export function forwardH2RequestHeaders(rawHeaders: readonly string[], options: H2RequestHeaderOptions = {}): string[] {
  const listed = connectionTokens(rawHeaders);
  const pseudo: string[] = [];
  const regular: string[] = [];
  let teTrailers = false;
  let hasAuthority = false;
  let host: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name.startsWith(':')) {
      hasAuthority ||= name === ':authority';
      pseudo.push(name, value);
      continue;
    }
    if (name === 'te') teTrailers ||= hasToken(value, 'trailers');
    if (CONNECTION_SPECIFIC.has(name) || listed?.has(name) === true) continue;
    if (options.stripClientId === true && name === CLIENT_ID_HEADER) continue;
    if (name === 'host') host ??= value;
    regular.push(name, value);
  }
  if (!hasAuthority && host !== undefined) pseudo.push(':authority', host);
  if (teTrailers) regular.push('te', 'trailers');
  return pseudo.concat(regular);
}

/** The response headers (or trailers) to send downstream from an upstream stream's raw list. */
export function forwardH2ResponseHeaders(rawHeaders: readonly string[]): string[] {
  const listed = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || listed?.has(name) === true) continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** A raw list as the header object `sendTrailers` takes; a repeated name becomes an array of its values. */
export function headerObjectOf(rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value];
  }
  return headers;
}
