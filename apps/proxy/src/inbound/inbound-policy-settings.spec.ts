import { defaultClusterNetworks, formatCidr } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INBOUND_POLICY_SETTINGS, describeInboundPolicySettings, readInboundPolicySettings } from './inbound-policy-settings.js';

describe('readInboundPolicySettings', () => {
  it('defaults to all-unauthenticated, Linkerd\'s cluster networks and the host name as the workload', () => {
    const problems: string[] = [];
    const settings = readInboundPolicySettings({}, problems, 'Books-7d9f');
    expect(problems).toEqual([]);
    expect(settings.defaultPolicy).toBe('all-unauthenticated');
    expect(settings.clusterNetworks).toEqual(defaultClusterNetworks);
    expect(settings.workload).toEqual({ namespace: 'default', name: 'books-7d9f' });
    expect(describeInboundPolicySettings(settings)).toEqual({
      defaultInboundPolicy: 'all-unauthenticated',
      clusterNetworks: '10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16,fd00::/8',
      policyWorkload: 'default/books-7d9f',
    });
  });

  it('reads each variable', () => {
    const problems: string[] = [];
    const settings = readInboundPolicySettings(
      {
        WEFT_PROXY_DEFAULT_INBOUND_POLICY: ' cluster-authenticated ',
        WEFT_PROXY_CLUSTER_NETWORKS: '127.0.0.2/32, fd00::/8',
        WEFT_PROXY_POLICY_WORKLOAD: 'shop/books-1',
      },
      problems,
    );
    expect(problems).toEqual([]);
    expect(settings.defaultPolicy).toBe('cluster-authenticated');
    expect(settings.clusterNetworks.map(formatCidr)).toEqual(['127.0.0.2/32', 'fd00::/8']);
    expect(settings.workload).toEqual({ namespace: 'shop', name: 'books-1' });
  });

  it('reports every bad value with its variable and keeps the defaults in their place', () => {
    const problems: string[] = [];
    const settings = readInboundPolicySettings(
      {
        WEFT_PROXY_DEFAULT_INBOUND_POLICY: 'All-Authenticated',
        WEFT_PROXY_CLUSTER_NETWORKS: '10.0.0.0/8,10.0.0.0/33',
        WEFT_PROXY_POLICY_WORKLOAD: 'books',
      },
      problems,
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^WEFT_PROXY_DEFAULT_INBOUND_POLICY="All-Authenticated": .*in lowercase: "all-authenticated"/);
    expect(problems[1]).toMatch(/^WEFT_PROXY_CLUSTER_NETWORKS="10.0.0.0\/8,10.0.0.0\/33": "10.0.0.0\/33" .*write CIDRs separated by commas/);
    expect(problems[2]).toBe('WEFT_PROXY_POLICY_WORKLOAD="books": is not <namespace>/<name> (lowercase letters, digits, "-" and "."), e.g. "shop/books-7d9f"');
    expect(settings).toEqual(DEFAULT_INBOUND_POLICY_SETTINGS);
  });

  it('takes an empty network list (cluster policies then admit nobody) and ignores a host name that is no workload name', () => {
    const problems: string[] = [];
    const settings = readInboundPolicySettings({ WEFT_PROXY_CLUSTER_NETWORKS: ' , ' }, problems, 'host_with_underscore');
    expect(problems).toEqual([]);
    expect(settings.clusterNetworks).toEqual([]);
    expect(settings.workload).toEqual(DEFAULT_INBOUND_POLICY_SETTINGS.workload);
  });
});
