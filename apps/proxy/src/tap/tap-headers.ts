// Picks the headers an observer asked for out of a request's or response's headers, leaving denied ones out.
import type { tap } from '@weft/contracts';
import type { TapHeaderDenyList } from './tap-header-deny-list.js';

/** One header value as Node's http and http2 modules give it. */
export type TapHeaderValue = string | number | readonly string[] | undefined;

/**
 * Headers as the HTTP path already holds them: a record (`req.headers`, http2 headers) or a flat raw list
 * `[name, value, name, value, ...]` of strings or bytes (`req.rawHeaders`, an upstream response's raw list).
 * Pseudo-headers (":path") are never copied; their values travel in their own fields.
 */
export type TapHeaders = Readonly<Record<string, TapHeaderValue>> | readonly (string | Uint8Array)[];

/** Copies the wanted headers of one message; `undefined` stands for "none wanted", the common case. */
export type TapHeaderPicker = (headers: TapHeaders | undefined) => tap.Header[];

const none: tap.Header[] = [];

/**
 * The picker for an ObserveRequest's `extract_headers`: empty means none, a single "*" all,
 * anything else those names (case-insensitive). Denied names are dropped in every case.
 */
export function tapHeaderPicker(extract: readonly string[], denyList: TapHeaderDenyList): TapHeaderPicker {
  const all = extract.length === 1 && extract[0] === '*';
  const wanted = new Set(extract.map((name) => name.toLowerCase()).filter((name) => !denyList.denies(name)));
  if (!all && wanted.size === 0) return () => none;
  const keep = all ? (name: string) => !denyList.denies(name) : (name: string) => wanted.has(name);
  return (headers) => (headers === undefined ? none : pickHeaders(headers, keep));
}

function pickHeaders(headers: TapHeaders, keep: (lowerName: string) => boolean): tap.Header[] {
  const picked: tap.Header[] = [];
  const add = (rawName: string, value: string) => {
    const name = rawName.toLowerCase();
    if (!name.startsWith(':') && keep(name)) picked.push({ name, value });
  };
  if (isRawList(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(text(headers[i] as string | Uint8Array), text(headers[i + 1] as string | Uint8Array));
    return picked;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number') add(name, String(value));
    else for (const each of value) add(name, each);
  }
  return picked;
}

function isRawList(headers: TapHeaders): headers is readonly (string | Uint8Array)[] {
  return Array.isArray(headers);
}

/** Header bytes are ISO-8859-1 on the wire, as Node reads them. */
function text(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
}
