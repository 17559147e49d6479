// The headers tap never sends (credentials by default, plus any the operator names), and the parser of that setting.
import { err, InvalidInputError, ok, type Result } from '@weft/core';

export class InvalidTapDenyHeadersError extends InvalidInputError {
  readonly kind = 'tap header deny list';
}

/** One rule: a whole header name, or a part that anywhere in a name denies it (written `*part*`). */
export type TapHeaderRule =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'contains'; readonly part: string };

/**
 * Denied whatever the operator configures: credentials, and any name containing "token" or "secret"
 * (x-auth-token, x-api-secret, ...). The environment variable WEFT_PROXY_TAP_DENY_HEADERS adds to these.
 */
export const TAP_DEFAULT_DENY_HEADERS: readonly TapHeaderRule[] = [
  { kind: 'name', name: 'authorization' },
  { kind: 'name', name: 'cookie' },
  { kind: 'name', name: 'set-cookie' },
  { kind: 'name', name: 'proxy-authorization' },
  { kind: 'contains', part: 'token' },
  { kind: 'contains', part: 'secret' },
];

/** The deny list of one proxy; it always holds the defaults, so no setting can expose a credential header. */
export class TapHeaderDenyList {
  static readonly DEFAULT = new TapHeaderDenyList([]);

  private readonly names: ReadonlySet<string>;
  private readonly parts: readonly string[];

  private constructor(extra: readonly TapHeaderRule[]) {
    const rules = [...TAP_DEFAULT_DENY_HEADERS, ...extra];
    this.names = new Set(rules.flatMap((rule) => (rule.kind === 'name' ? [rule.name.toLowerCase()] : [])));
    this.parts = rules.flatMap((rule) => (rule.kind === 'contains' ? [rule.part.toLowerCase()] : []));
  }

  /** The defaults plus `extra`. */
  static withExtraRules(extra: readonly TapHeaderRule[]): TapHeaderDenyList {
    return extra.length === 0 ? TapHeaderDenyList.DEFAULT : new TapHeaderDenyList(extra);
  }

  /** Whether a header (name in lower case) must never leave the proxy through tap. */
  denies(lowerName: string): boolean {
    if (this.names.has(lowerName)) return true;
    for (const part of this.parts) if (lowerName.includes(part)) return true;
    return false;
  }

  /** The rules in the syntax parseTapDenyHeaders reads, e.g. "authorization,*token*". */
  toString(): string {
    return [...[...this.names], ...this.parts.map((part) => `*${part}*`)].join(',');
  }
}

/**
 * Reads WEFT_PROXY_TAP_DENY_HEADERS: comma-separated header names ("x-api-key") and parts written `*part*`
 * ("*session*" denies every name containing "session"), compared case-insensitively. They add to the defaults;
 * an empty value keeps just the defaults.
 */
export function parseTapDenyHeaders(input: string): Result<TapHeaderDenyList, InvalidTapDenyHeadersError> {
  const rules: TapHeaderRule[] = [];
  for (const item of input.split(',').map((entry) => entry.trim())) {
    if (item === '') continue;
    const rule = readRule(item);
    if (typeof rule === 'string') return err(new InvalidTapDenyHeadersError(input, rule));
    rules.push(rule);
  }
  return ok(TapHeaderDenyList.withExtraRules(rules));
}

/** RFC 9110 token characters, less "*" (which marks a part here), in lower case. */
const HEADER_NAME = /^[!#$%&'+.^_`|~0-9a-z-]+$/;

function readRule(item: string): TapHeaderRule | string {
  const contains = item.length > 2 && item.startsWith('*') && item.endsWith('*');
  const text = (contains ? item.slice(1, -1) : item).toLowerCase();
  if (!HEADER_NAME.test(text)) {
    return `"${item}" is not a header name or a *part*; write names such as "x-api-key" or "*session*", comma separated`;
  }
  return contains ? { kind: 'contains', part: text } : { kind: 'name', name: text };
}
