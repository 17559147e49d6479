import { describe, expect, it } from 'vitest';
import { InvalidTapDenyHeadersError, parseTapDenyHeaders, TapHeaderDenyList } from './tap-header-deny-list.js';

describe('TapHeaderDenyList', () => {
  it.each(['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-auth-token', 'x-api-secret', 'token', 'client-secret-id'])(
    'denies %s by default',
    (name) => {
      expect(TapHeaderDenyList.DEFAULT.denies(name)).toBe(true);
    },
  );

  it.each(['user-agent', 'content-type', 'x-request-id', 'grpc-status', 'x-api-key'])('lets %s through by default', (name) => {
    expect(TapHeaderDenyList.DEFAULT.denies(name)).toBe(false);
  });
});

describe('parseTapDenyHeaders', () => {
  it('adds names and *parts* to the defaults, compared in lower case', () => {
    const parsed = parseTapDenyHeaders(' X-Api-Key, *Session* ,');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;

    expect(parsed.value.denies('x-api-key')).toBe(true);
    expect(parsed.value.denies('x-session-id')).toBe(true);
    expect(parsed.value.denies('authorization')).toBe(true);
    expect(parsed.value.denies('x-auth-token')).toBe(true);
    expect(parsed.value.denies('x-api-key-id')).toBe(false);
    expect(parsed.value.toString()).toBe('authorization,cookie,set-cookie,proxy-authorization,x-api-key,*token*,*secret*,*session*');
  });

  it('keeps just the defaults for an empty value', () => {
    const parsed = parseTapDenyHeaders('');
    expect(parsed.ok && parsed.value).toBe(TapHeaderDenyList.DEFAULT);
  });

  it.each(['x api', '*', '**', 'a*b', '*x', 'x-api-key,bad/name', 'é'])('refuses %j and names it', (input) => {
    const parsed = parseTapDenyHeaders(input);

    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toBeInstanceOf(InvalidTapDenyHeadersError);
    expect(parsed.error.input).toBe(input);
    expect(parsed.error.message).toContain(JSON.stringify(input));
    expect(parsed.error.reason).toContain('write names such as "x-api-key" or "*session*"');
  });
});
