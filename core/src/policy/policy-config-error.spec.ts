import { describe, expect, it } from 'vitest';
import { formatPolicyResource, PolicyConfigError } from './policy-config-error.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';

describe('PolicyConfigError', () => {
  it('names the resource, what is wrong, and the reference', () => {
    const reference = { kind: 'MeshTLSAuthentication', namespace: 'shop', name: 'clients' };
    const error = new PolicyConfigError(
      { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'web' },
      'requires MeshTLSAuthentication shop/clients, which does not exist',
      reference,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.input).toBe('AuthorizationPolicy shop/web');
    expect(error.reference).toEqual(reference);
    expect(error.toString()).toBe(
      'invalid policy "AuthorizationPolicy shop/web": requires MeshTLSAuthentication shop/clients, which does not exist',
    );
    expect(formatPolicyResource(reference)).toBe('MeshTLSAuthentication shop/clients');
  });
});
