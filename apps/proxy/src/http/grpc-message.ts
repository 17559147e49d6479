// encodeGrpcMessage: the grpc-message header value for a text, percent-encoded the way the gRPC HTTP/2 protocol says.
const encoder = new TextEncoder();

/**
 * gRPC percent-encodes only what is not printable ASCII (bytes outside 0x20-0x7E) and "%" itself, each UTF-8 byte
 * as %XX. encodeURIComponent would also encode ":" or "/", which clients (grpc-js decodes with decodeURI) then
 * show as "%3A" and "%2F".
 */
export function encodeGrpcMessage(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  let out = '';
  for (const byte of encoder.encode(text)) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}
