import { describe, expect, it } from 'vitest';
import {
  authenticationRefResource,
  policyTargetsHttpRoute,
  policyTargetsServer,
  type AuthorizationPolicy,
} from './authorization-policy.js';

const policy = (target: AuthorizationPolicy['target'], namespace = 'shop'): AuthorizationPolicy => ({
  name: 'p',
  namespace,
  target,
  requiredAuthentications: [],
});

describe('AuthorizationPolicy targets', () => {
  const web = { name: 'web', namespace: 'shop' };

  it('protects the Server it names, or every Server of its namespace', () => {
    expect(policyTargetsServer(policy({ kind: 'Server', name: 'web' }), web)).toBe(true);
    expect(policyTargetsServer(policy({ kind: 'Server', name: 'api' }), web)).toBe(false);
    expect(policyTargetsServer(policy({ kind: 'Namespace' }), web)).toBe(true);
    expect(policyTargetsServer(policy({ kind: 'Namespace' }, 'books'), web)).toBe(false);
    expect(policyTargetsServer(policy({ kind: 'Server', name: 'web' }, 'books'), web)).toBe(false);
    expect(policyTargetsServer(policy({ kind: 'HttpRoute', name: 'web' }), web)).toBe(false);
  });

  it('protects the HTTP route it names in its namespace', () => {
    expect(policyTargetsHttpRoute(policy({ kind: 'HttpRoute', name: 'web' }), web)).toBe(true);
    expect(policyTargetsHttpRoute(policy({ kind: 'HttpRoute', name: 'web' }, 'books'), web)).toBe(false);
    expect(policyTargetsHttpRoute(policy({ kind: 'Server', name: 'web' }), web)).toBe(false);
    expect(policyTargetsHttpRoute(policy({ kind: 'Namespace' }), web)).toBe(false);
  });

  it('resolves a reference in the policy namespace unless it names another', () => {
    expect(authenticationRefResource({ kind: 'MeshTLSAuthentication', name: 'clients' }, 'shop')).toEqual({
      kind: 'MeshTLSAuthentication',
      namespace: 'shop',
      name: 'clients',
    });
    expect(authenticationRefResource({ kind: 'NetworkAuthentication', name: 'office', namespace: 'infra' }, 'shop')).toEqual({
      kind: 'NetworkAuthentication',
      namespace: 'infra',
      name: 'office',
    });
  });
});
