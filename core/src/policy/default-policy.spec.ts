import { describe, expect, it } from 'vitest';
import { networkMatches } from './authentication.js';
import { formatCidr } from './cidr.js';
import {
  defaultClusterNetworks,
  defaultPolicyAuthorizations,
  defaultPolicyNames,
  InvalidDefaultPolicyError,
  parseDefaultPolicy,
} from './default-policy.js';

describe('parseDefaultPolicy', () => {
  it.each(defaultPolicyNames)('reads %s', (name) => {
    expect(parseDefaultPolicy(name)).toEqual({ ok: true, value: name });
  });

  it.each(['', 'allow', 'all', 'All-Unauthenticated', 'deny-all', 'cluster'])('refuses %j listing the valid values', (text) => {
    const result = parseDefaultPolicy(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidDefaultPolicyError);
    expect(result.error.input).toBe(text);
    expect(result.error.toString()).toContain(`invalid default policy ${JSON.stringify(text)}`);
    expect(result.error.reason).toContain(
      'all-unauthenticated, all-authenticated, cluster-unauthenticated, cluster-authenticated, deny, audit',
    );
  });

  it('points at the lowercase spelling', () => {
    const result = parseDefaultPolicy('DENY');
    expect(!result.ok && result.error.reason).toContain('in lowercase: "deny"');
  });
});

describe('defaultPolicyAuthorizations', () => {
  it('uses Linkerd default cluster networks', () => {
    expect(defaultClusterNetworks.map(formatCidr)).toEqual([
      '10.0.0.0/8',
      '100.64.0.0/10',
      '172.16.0.0/12',
      '192.168.0.0/16',
      'fd00::/8',
    ]);
  });

  it('all-* admits every address of both families', () => {
    for (const policy of ['all-unauthenticated', 'all-authenticated'] as const) {
      const [authz] = defaultPolicyAuthorizations(policy, defaultClusterNetworks);
      expect(authz?.name).toBe(policy);
      expect(authz?.kind).toBe('default');
      expect(authz?.networks.map((n) => formatCidr(n.cidr))).toEqual(['0.0.0.0/0', '::/0']);
    }
  });

  it('cluster-* admits only the cluster networks', () => {
    const [authz] = defaultPolicyAuthorizations('cluster-unauthenticated', defaultClusterNetworks);
    expect(authz && networkMatches(authz, '10.1.2.3')).toBe(true);
    expect(authz && networkMatches(authz, 'fd00::1')).toBe(true);
    expect(authz && networkMatches(authz, '8.8.8.8')).toBe(false);
  });

  it('*-authenticated requires a mesh identity, *-unauthenticated nothing', () => {
    expect(defaultPolicyAuthorizations('cluster-authenticated', defaultClusterNetworks)[0]?.authentication).toEqual({
      kind: 'meshTLS',
      identities: [{ kind: 'any' }],
    });
    expect(defaultPolicyAuthorizations('all-authenticated', [])[0]?.authentication.kind).toBe('meshTLS');
    expect(defaultPolicyAuthorizations('all-unauthenticated', [])[0]?.authentication).toEqual({ kind: 'unauthenticated' });
  });

  it('deny and audit have no authorizations, nor has a cluster policy without cluster networks', () => {
    expect(defaultPolicyAuthorizations('deny', defaultClusterNetworks)).toEqual([]);
    expect(defaultPolicyAuthorizations('audit', defaultClusterNetworks)).toEqual([]);
    expect(defaultPolicyAuthorizations('cluster-unauthenticated', [])).toEqual([]);
  });
});
