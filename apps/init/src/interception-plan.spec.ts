import { type Cidr, parseCidr, unwrap } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INTERCEPTION_SETTINGS,
  type InterceptionSettings,
  natRuleLine,
  planInterception,
  planIpVersions,
  planSaveLines,
} from './interception-plan.js';
import { normalisePortRanges, type PortRange } from './port-list.js';

const cidr = (text: string): Cidr => unwrap(parseCidr(text));
const settings = (overrides: Partial<InterceptionSettings> = {}): InterceptionSettings => ({
  ...DEFAULT_INTERCEPTION_SETTINGS,
  ...overrides,
});

describe('planInterception', () => {
  it('writes the default rules: skip tap and admin, redirect inbound to 4243 and outbound (not the proxy, not lo) to 4240', () => {
    expect(planSaveLines(planInterception(DEFAULT_INTERCEPTION_SETTINGS, 4))).toEqual([
      ':WEFT_INBOUND - [0:0]',
      ':WEFT_OUTPUT - [0:0]',
      '-A PREROUTING -m comment --comment "weft/install-inbound" -j WEFT_INBOUND',
      '-A OUTPUT -m comment --comment "weft/install-output" -j WEFT_OUTPUT',
      '-A WEFT_INBOUND -p tcp -m multiport --dports 4290,4291 -m comment --comment "weft/skip-inbound-ports-4290,4291" -j RETURN',
      '-A WEFT_INBOUND -p tcp -m comment --comment "weft/redirect-inbound-to-4243" -j REDIRECT --to-ports 4243',
      '-A WEFT_OUTPUT -m owner --uid-owner 2102 -m comment --comment "weft/skip-proxy-uid-2102" -j RETURN',
      '-A WEFT_OUTPUT -o lo -m comment --comment "weft/skip-loopback" -j RETURN',
      '-A WEFT_OUTPUT -p tcp -m comment --comment "weft/redirect-outbound-to-4240" -j REDIRECT --to-ports 4240',
    ]);
  });

  it('puts skipped ports, then skipped subnets, then the redirect in each chain; the gid right after the uid', () => {
    const plan = planInterception(
      settings({
        inboundPort: 15006,
        outboundPort: 15001,
        proxyUid: 1337,
        proxyGid: 1338,
        skipInboundPorts: [{ first: 22, last: 22 }],
        skipOutboundPorts: [{ first: 443, last: 443 }, { first: 6443, last: 6443 }],
        skipSubnets: [cidr('10.96.0.0/12'), cidr('169.254.169.254')],
      }),
      4,
    );
    expect(plan.rules.map((rule) => `${rule.chain} ${rule.name}`)).toEqual([
      'WEFT_INBOUND skip-inbound-ports-22',
      'WEFT_INBOUND skip-inbound-subnet-10.96.0.0/12',
      'WEFT_INBOUND skip-inbound-subnet-169.254.169.254/32',
      'WEFT_INBOUND redirect-inbound-to-15006',
      'WEFT_OUTPUT skip-proxy-uid-1337',
      'WEFT_OUTPUT skip-proxy-gid-1338',
      'WEFT_OUTPUT skip-loopback',
      'WEFT_OUTPUT skip-outbound-ports-443,6443',
      'WEFT_OUTPUT skip-outbound-subnet-10.96.0.0/12',
      'WEFT_OUTPUT skip-outbound-subnet-169.254.169.254/32',
      'WEFT_OUTPUT redirect-outbound-to-15001',
    ]);
    expect(plan.rules.map(natRuleLine)).toContain(
      '-A WEFT_INBOUND -s 10.96.0.0/12 -m comment --comment "weft/skip-inbound-subnet-10.96.0.0/12" -j RETURN',
    );
    expect(plan.rules.map(natRuleLine)).toContain(
      '-A WEFT_OUTPUT -m owner --gid-owner 1338 -m comment --comment "weft/skip-proxy-gid-1338" -j RETURN',
    );
    expect(plan.rules.map(natRuleLine)).toContain(
      '-A WEFT_OUTPUT -d 169.254.169.254/32 -m comment --comment "weft/skip-outbound-subnet-169.254.169.254/32" -j RETURN',
    );
  });

  it('puts each subnet only in the table of its address family', () => {
    const both = settings({ ipv6: true, skipSubnets: [cidr('10.0.0.0/8'), cidr('fd00::/8')] });
    const subnetsOf = (ipVersion: 4 | 6) =>
      planInterception(both, ipVersion)
        .rules.filter((rule) => rule.spec[0] === '-s' || rule.spec[0] === '-d')
        .map((rule) => rule.spec.slice(0, 2).join(' '));
    expect(subnetsOf(4)).toEqual(['-s 10.0.0.0/8', '-d 10.0.0.0/8']);
    expect(subnetsOf(6)).toEqual(['-s fd00::/8', '-d fd00::/8']);
  });

  it('splits a long skip list into multiport rules of at most 15 ports', () => {
    const ports = Array.from({ length: 20 }, (_, i): PortRange => ({ first: 9000 + 2 * i, last: 9000 + 2 * i }));
    const rules = planInterception(settings({ skipOutboundPorts: ports }), 4).rules.filter((rule) => rule.name.startsWith('skip-outbound-ports'));
    expect(rules.map((rule) => rule.spec[rule.spec.indexOf('--dports') + 1]?.split(',').length)).toEqual([15, 5]);
  });

  it('for any settings: every rule is commented weft/<name> with a unique name, and each chain ends in its redirect', () => {
    const port = fc.integer({ min: 1, max: 65_535 });
    const portList = fc.array(fc.tuple(port, port), { maxLength: 40 }).map((pairs) =>
      normalisePortRanges(pairs.map(([a, b]) => ({ first: Math.min(a, b), last: Math.max(a, b) }))),
    );
    const subnet = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, length]) => cidr(`${ip}/${length}`)),
      fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, length]) => cidr(`${ip}/${length}`)),
    );
    const anySettings = fc.record({
      inboundPort: port,
      outboundPort: port,
      proxyUid: fc.nat(),
      skipInboundPorts: portList,
      skipOutboundPorts: portList,
      skipSubnets: fc.uniqueArray(subnet, { maxLength: 5, selector: (c) => `${c.bytes.join('.')}/${c.prefixLength}` }),
      ipv6: fc.boolean(),
    });
    fc.assert(
      fc.property(anySettings, fc.constantFrom(4 as const, 6 as const), (chosen, ipVersion) => {
        const plan = planInterception(chosen, ipVersion);
        const all = [...plan.jumps, ...plan.rules];
        for (const rule of all) expect(natRuleLine(rule)).toContain(`-m comment --comment "weft/${rule.name}"`);
        expect(new Set(all.map((rule) => rule.name)).size).toBe(all.length);
        const last = (chain: string) => plan.rules.filter((rule) => rule.chain === chain).at(-1)?.spec.join(' ');
        expect(last('WEFT_INBOUND')).toMatch(new RegExp(`^-p tcp .* -j REDIRECT --to-ports ${chosen.inboundPort}$`));
        expect(last('WEFT_OUTPUT')).toMatch(new RegExp(`^-p tcp .* -j REDIRECT --to-ports ${chosen.outboundPort}$`));
        for (const rule of plan.rules.filter((r) => r.spec[0] === '-s' || r.spec[0] === '-d')) {
          expect(rule.spec[1]?.includes(':')).toBe(ipVersion === 6);
        }
      }),
    );
  });
});

describe('planIpVersions', () => {
  it('plans IPv4 always and IPv6 with --ipv6', () => {
    expect(planIpVersions(settings())).toEqual([4]);
    expect(planIpVersions(settings({ ipv6: true }))).toEqual([4, 6]);
  });
});
