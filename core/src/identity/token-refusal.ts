// TokenRefusal: why a workload's token proves no identity; its message never repeats the token, which is a secret.
export type TokenRefusalCode = 'invalid' | 'expired' | 'revoked' | 'unavailable';

export class TokenRefusal extends Error {
  /**
   * @param reason what is wrong, for people; never put the token in it. If `token` is given, any copy of it that
   *   slipped into `reason` (an upstream error echoing the request, say) is replaced by "[token]".
   */
  constructor(
    readonly code: TokenRefusalCode,
    reason: string,
    token?: string,
  ) {
    super(`token refused (${code}): ${token === undefined ? reason : redactToken(reason, token)}`);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** `text` with every copy of `token` replaced by "[token]", for messages and logs. */
export function redactToken(text: string, token: string): string {
  return token === '' ? text : text.replaceAll(token, '[token]');
}
