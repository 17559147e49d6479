// The head of a forwarded HTTP/1.1 request, as the text written upstream, with the body framing it declares.

export type RequestFraming =
  /** No body follows the head. */
  | { readonly kind: 'none' }
  /** Exactly `length` bytes follow (the Content-Length the head carries). */
  | { readonly kind: 'length'; readonly length: number }
  /** The body follows in chunked encoding, ended by a zero-size chunk. */
  | { readonly kind: 'chunked' };

export interface RequestHead {
  readonly text: string;
  readonly framing: RequestFraming;
}

/** Request targets never hold whitespace or control characters (RFC 9112 §3.2); llhttp already refused them downstream. */
const UNSAFE_TARGET = /[^!-~\u0080-\u00ff]/;

/**
 * The request line and header block for `headers` (flat [name, value, ...] without hop-by-hop fields, from a request
 * llhttp parsed strictly, or written by the proxy). A `host` is added for `authority` when none is there; the body is
 * framed by the Content-Length the headers carry, else by `bodyLength` when the whole body is known, else chunked.
 * Returns a reason instead when the request cannot be written.
 */
export function requestHead(method: string, target: string, headers: readonly string[], authority: string, body: 'none' | 'stream' | number): RequestHead | string {
  if (target === '' || UNSAFE_TARGET.test(target)) return `request target ${JSON.stringify(target)} cannot be sent as HTTP/1.1`;
  let text = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  let declared: number | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
    else if (name.length === 14 && name.toLowerCase() === 'content-length') declared = Number(value);
    text += `${name}: ${value}\r\n`;
  }
  if (!hasHost) text += `host: ${authority}\r\n`;
  if (declared !== undefined) {
    if (!Number.isSafeInteger(declared) || declared < 0) return 'the request has an invalid Content-Length';
    if (typeof body === 'number' && body !== declared) return `the request body has ${body} bytes but Content-Length says ${declared}`;
    if (body === 'none' && declared !== 0) return `the request has no body but Content-Length says ${declared}`;
    return { text: `${text}\r\n`, framing: declared === 0 ? { kind: 'none' } : { kind: 'length', length: declared } };
  }
  if (body === 'none') return { text: `${text}\r\n`, framing: { kind: 'none' } };
  if (typeof body === 'number') return { text: `${text}content-length: ${body}\r\n\r\n`, framing: body === 0 ? { kind: 'none' } : { kind: 'length', length: body } };
  return { text: `${text}transfer-encoding: chunked\r\n\r\n`, framing: { kind: 'chunked' } };
}
