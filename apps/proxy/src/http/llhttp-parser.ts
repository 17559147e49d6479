// Node's own llhttp binding (the parser behind node:http), typed for the proxy's raw-socket HTTP/1 connections.
import { createRequire } from 'node:module';

/**
 * One llhttp parser. Callbacks are set by index (the `k*` constants) and called with `this` = the parser; `execute`
 * returns the bytes it consumed, or an Error whose `code` is llhttp's (HPE_INVALID_CHUNK_SIZE, HPE_HEADER_OVERFLOW...).
 */
export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | LlhttpError;
  /** Tells the parser the stream ended: completes a body delimited by the connection's close, or reports a cut. */
  finish(): number | LlhttpError | undefined;
  /** Detaches the parser from async-hooks bookkeeping; `close` then frees the native object. */
  remove(): void;
  close(): void;
  [callback: number]: unknown;
}

export interface LlhttpError extends Error {
  readonly code?: string;
  readonly reason?: string;
}

interface LlhttpParserClass {
  new (): LlhttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

/**
 * `_http_common` is how node:http itself reaches the binding; it is not a documented module, so its shape is checked
 * once at load and a Node release that changed it fails at start with this message, not on the first request.
 */
function loadParserClass(): { parser: LlhttpParserClass; methods: readonly string[] } {
  const common = createRequire(import.meta.url)('_http_common') as { HTTPParser?: unknown; methods?: unknown };
  const parser = common.HTTPParser as Record<string, unknown> | undefined;
  const numbers = ['RESPONSE', 'kLenientNone', 'kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete'];
  if (typeof parser !== 'function' || numbers.some((name) => typeof parser[name] !== 'number') || !Array.isArray(common.methods)) {
    throw new Error(`node:_http_common.HTTPParser is not the llhttp binding this proxy was built for (Node ${process.version})`);
  }
  return { parser: parser as unknown as LlhttpParserClass, methods: common.methods as readonly string[] };
}

const binding = loadParserClass();

export const HTTPParser = binding.parser;

/** A request's method from the index llhttp reports. */
export function methodName(index: number): string {
  return binding.methods[index] ?? `METHOD_${index}`;
}

/** Arguments of the head callback, in the binding's order. */
export type HeadersCompleteCallback = (
  this: LlhttpParser,
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number,
  statusMessage: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

/** The value a head callback returns so the parser expects no body (a response to HEAD, an interim 1xx). */
export const SKIP_BODY = 1;

/** The callbacks of one kind of connection; llhttp calls them with `this` = the parser, whose `owner` is the connection. */
export interface ParserCallbacks<O> {
  readonly messageBegin: (this: OwnedParser<O>) => void;
  readonly headers: (this: OwnedParser<O>, fields: string[], url: string) => void;
  readonly headersComplete: HeadersCompleteCallback;
  readonly body: (this: OwnedParser<O>, chunk: Buffer) => void;
  readonly messageComplete: (this: OwnedParser<O>) => void;
}

export type OwnedParser<O> = LlhttpParser & { owner: O };

/**
 * A strict parser of `type` (HTTPParser.REQUEST or RESPONSE) reading for `owner`. The callbacks are shared by every
 * connection of a kind: a connection keeps no function of its own per parser.
 */
export function ownedParser<O>(type: number, maxHeaderBytes: number, owner: O, callbacks: ParserCallbacks<O>): OwnedParser<O> {
  const parser = new HTTPParser() as OwnedParser<O>;
  parser.initialize(type, {}, maxHeaderBytes, HTTPParser.kLenientNone);
  parser.owner = owner;
  parser[HTTPParser.kOnMessageBegin] = callbacks.messageBegin;
  parser[HTTPParser.kOnHeaders] = callbacks.headers;
  parser[HTTPParser.kOnHeadersComplete] = callbacks.headersComplete;
  parser[HTTPParser.kOnBody] = callbacks.body;
  parser[HTTPParser.kOnMessageComplete] = callbacks.messageComplete;
  return parser;
}

/** Frees a parser whose connection is done with it, once no llhttp callback can be on the stack. */
export function releaseParser(parser: LlhttpParser): void {
  parser.remove();
  setImmediate(closeParser, parser);
}

function closeParser(parser: LlhttpParser): void {
  parser.close();
}
