// HTTP tokens (RFC 9110 section 5.6.2): the characters allowed in methods and header field names.

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR_CODES: ReadonlySet<number> = new Set(
  Array.from("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", (char) => char.charCodeAt(0)),
);

/** Whether one character code (a byte, or a UTF-16 code unit) is an RFC 9110 tchar. */
export function isHttpTokenChar(code: number): boolean {
  return TCHAR_CODES.has(code);
}

/** Whether `text` is a non-empty run of tchars, as a method ("GET") or a header name ("x-canary") must be. */
export function isHttpToken(text: string): boolean {
  if (typeof text !== 'string' || text === '') return false;
  for (let i = 0; i < text.length; i++) {
    if (!isHttpTokenChar(text.charCodeAt(i))) return false;
  }
  return true;
}
