import { describe, expect, it } from 'vitest';
import { redactToken, TokenRefusal } from './token-refusal.js';

const token = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl';

describe('TokenRefusal', () => {
  it('states its code and reason', () => {
    const refusal = new TokenRefusal('expired', 'the token expired at 2026-01-01T00:00:00.000Z');
    expect(refusal.code).toBe('expired');
    expect(refusal.message).toBe('token refused (expired): the token expired at 2026-01-01T00:00:00.000Z');
    expect(refusal.name).toBe('TokenRefusal');
  });

  it('removes the token from a reason that echoes it', () => {
    const refusal = new TokenRefusal('invalid', `the API server said: bad token ${token} (twice: ${token})`, token);
    expect(refusal.message).not.toContain(token);
    expect(refusal.message).toBe('token refused (invalid): the API server said: bad token [token] (twice: [token])');
    expect(String(refusal)).not.toContain(token);
  });
});

describe('redactToken', () => {
  it('leaves text without the token, or with an empty token, as it is', () => {
    expect(redactToken('nothing secret here', token)).toBe('nothing secret here');
    expect(redactToken('nothing secret here', '')).toBe('nothing secret here');
  });
});
