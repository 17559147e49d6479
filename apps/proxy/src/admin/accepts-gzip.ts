// Reads an Accept-Encoding header to decide whether a response may be sent gzip-compressed.

/**
 * True when the header lists gzip (or "*") with a non-zero quality. An explicit "gzip;q=0" refuses gzip even
 * if "*" is accepted (RFC 9110 section 12.5.3).
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let wildcard = false;
  for (const item of header.split(',')) {
    const [coding = '', ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    const accepted = quality(params) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') wildcard = accepted;
  }
  return wildcard;
}

// The q parameter of one coding; 1 when absent, 0 when unreadable (a client that garbles q gets no gzip).
function quality(params: readonly string[]): number {
  const q = params.find((param) => param.startsWith('q='));
  if (q === undefined) return 1;
  const value = Number(q.slice(2));
  return Number.isFinite(value) ? value : 0;
}
