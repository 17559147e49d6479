// Hop-by-hop header filtering (RFC 9110 §7.6.1) for forwarded HTTP/1 requests and responses, on flat raw header lists.

/** Headers that describe one connection only and are never forwarded as they are. */
const ALWAYS_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade']);

/** Set by the proxy itself; a client-supplied value is never trusted on the way in. */
export const CLIENT_ID_HEADER = 'weft-client-id';

export interface RequestHeaderOptions {
  /** Keeps `Upgrade` and a `Connection: upgrade` for a request that is about to become a tunnel (WebSocket). */
  readonly tunnel?: boolean;
  /** Inbound: drops any `weft-client-id` the client sent. */
  readonly stripClientId?: boolean;
}

/**
 * The request headers to send upstream, as a flat [name, value, ...] list, from Node's `rawHeaders`.
 * Drops Connection and every header it names, Keep-Alive, Proxy-Connection, Transfer-Encoding (the body is
 * re-framed by the client), Upgrade (unless tunnelling), Expect (the proxy's server already answered 100-continue)
 * and TE except its `trailers` token.
 */
export function forwardRequestHeaders(rawHeaders: readonly string[], options: RequestHeaderOptions = {}): string[] {
  const listed = connectionTokens(rawHeaders);
  const out: string[] = [];
  let teTrailers = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'te') {
      teTrailers ||= hasToken(value, 'trailers');
      continue;
    }
    if (lower === 'upgrade' && options.tunnel === true) {
      out.push(name, value);
      continue;
    }
    if (ALWAYS_HOP_BY_HOP.has(lower) || lower === 'expect' || (listed !== undefined && listed.has(lower))) continue;
    if (options.stripClientId === true && lower === CLIENT_ID_HEADER) continue;
    out.push(name, value);
  }
  if (teTrailers) out.push('te', 'trailers');
  if (options.tunnel === true) out.push('connection', 'upgrade');
  return out;
}

/**
 * The response headers (or trailers) to send downstream, as a flat [name, value, ...] list, from the upstream's raw
 * list. Drops the same hop-by-hop set; Node's server re-frames the body and writes its own Connection.
 */
export function forwardResponseHeaders(strings: readonly string[]): string[] {
  const listed = connectionTokens(strings);
  const out: string[] = [];
  for (let i = 0; i + 1 < strings.length; i += 2) {
    const name = strings[i] as string;
    const lower = name.toLowerCase();
    if (ALWAYS_HOP_BY_HOP.has(lower) || (listed !== undefined && listed.has(lower))) continue;
    out.push(name, strings[i + 1] as string);
  }
  return out;
}

/** The first value of a header in a flat raw list (name compared without case). */
export function rawHeaderValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
}

/** Whether a comma-separated header value holds `token` (compared without case). */
export function hasToken(value: string, token: string): boolean {
  return value.split(',').some((part) => part.trim().toLowerCase() === token);
}

/** The header names listed in every Connection header, lower-cased; undefined when there is none. */
export function connectionTokens(rawHeaders: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    tokens ??= new Set();
    for (const part of (rawHeaders[i + 1] as string).split(',')) {
      const token = part.trim().toLowerCase();
      if (token !== '') tokens.add(token);
    }
  }
  return tokens;
}
